"""Re-sealing every private key the hub stores under a new key-encryption secret.

The token-signing keys (`registry.auth.keystore`), the trust service's server-held keys
(`trust.server.reseal`) and the webhooks' signing secrets (`registry.webhooks.secretseal`) are
re-sealed in one database transaction that holds off their other writers: a failure leaves
every key sealed as before. A key the new secret opens already is
left alone, so running it again (say, after replicas still on the old secret wrote new keys)
finishes the job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.auth.keyseal import KeySealer, SigningKeyError
from registry.auth.keystore import SigningKeyReseal, reseal_signing_keys
from registry.db import account_queries, webhook_queries
from registry.errors import RegistryError
from registry.keysecret import MIN_SECRET_BYTES
from registry.webhooks.secretseal import WebhookSecretError, WebhookSecretSealer
from trust.server.keyseal import KeySealError, ServerKeySealer
from trust.server.reseal import ResealCount, lock_server_keys, reseal_server_keys

logger = logging.getLogger(__name__)

__all__ = ["KeyResealError", "ResealReport", "WebhookReseal", "reseal_keys"]


class KeyResealError(RegistryError):
    """The keys cannot be re-sealed (a key opens with neither secret, or a secret is unfit)."""


@dataclass(frozen=True, slots=True)
class ResealReport:
    """What `reseal_keys` did, per kind of key."""

    signing: SigningKeyReseal
    trust: ResealCount
    webhooks: WebhookReseal


@dataclass(frozen=True, slots=True)
class WebhookReseal:
    """What re-sealing the webhook secrets did."""

    stored: int
    resealed: int
    already: int


async def reseal_keys(engine: AsyncEngine, old_secret: bytes, new_secret: bytes) -> ResealReport:
    """Seal every stored private key with `new_secret`; keys must open with one of the two.

    Args:
        engine: the hub's (migrated) database.
        old_secret: the secret the keys were sealed with.
        new_secret: the secret the hubs will use from now on.

    Raises:
        KeyResealError: nothing was changed: a key opens with neither secret, the secrets are
            equal, or the new one is too short for the trust service.
    """
    if old_secret == new_secret:
        raise KeyResealError("the old secret is the configured one: nothing to re-seal")
    if len(new_secret) < MIN_SECRET_BYTES:
        raise KeyResealError(f"the new secret is shorter than {MIN_SECRET_BYTES} bytes")
    try:
        async with engine.begin() as conn:
            await account_queries.lock_signing_keys(conn)
            await lock_server_keys(conn)
            signing = await reseal_signing_keys(conn, KeySealer(old_secret), KeySealer(new_secret))
            trust = await reseal_server_keys(
                conn, ServerKeySealer(old_secret), ServerKeySealer(new_secret)
            )
            await webhook_queries.lock_webhooks(conn)
            webhooks = await _reseal_webhook_secrets(
                conn, WebhookSecretSealer(old_secret), WebhookSecretSealer(new_secret)
            )
    except (SigningKeyError, KeySealError, WebhookSecretError) as exc:
        raise KeyResealError(f"{exc}; nothing was changed") from exc
    logger.info(
        "re-sealed %d token signing keys, %d trust keys and %d webhook secrets",
        signing.resealed + signing.plain,
        trust.resealed,
        webhooks.resealed,
    )
    return ResealReport(signing, trust, webhooks)


async def _reseal_webhook_secrets(
    conn: AsyncConnection, old: WebhookSecretSealer, new: WebhookSecretSealer
) -> WebhookReseal:
    """Seal every webhook secret with `new` (one `new` opens already is left alone).

    Raises:
        WebhookSecretError: a secret opens with neither; nothing should be committed then.
    """
    stored = await webhook_queries.stored_secrets(conn)
    resealed = already = 0
    for webhook_id, namespace, sealed in stored:
        try:
            new.open(namespace, sealed)
            already += 1
            continue
        except WebhookSecretError:
            pass
        try:
            secret = old.open(namespace, sealed)
        except WebhookSecretError as exc:
            raise WebhookSecretError(
                f"the secret of webhook {webhook_id} ({namespace}) opens with neither secret"
            ) from exc
        await webhook_queries.replace_secret(conn, webhook_id, new.seal(namespace, secret))
        resealed += 1
    return WebhookReseal(len(stored), resealed, already)
