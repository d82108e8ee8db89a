"""Webhook signing secrets sealed for the database with the hub's key-encryption secret.

A webhook's secret must be readable to sign deliveries, so it cannot be hashed like a
password; it is stored as sealed text (`registry.sealedtext`) of its 32 bytes, under its own
derived key and bound to the namespace, so a secret copied to another namespace's webhook does
not open. A copy of the database alone therefore cannot forge deliveries.
"""

from __future__ import annotations

import secrets

from registry.sealedtext import SealedTextError, TextSealer, is_sealed

__all__ = ["WebhookSecretError", "WebhookSecretSealer", "new_secret"]

_PURPOSE = b"berth webhook secrets"
_SECRET_BYTES = 32


class WebhookSecretError(ValueError):
    """A stored webhook secret does not open with this key-encryption secret."""


def new_secret() -> str:
    """A fresh signing secret, as shown to the webhook's owner (64 hex digits)."""
    return secrets.token_hex(_SECRET_BYTES)


class WebhookSecretSealer:
    """Seals and opens webhook secrets with one key-encryption secret.

    Args:
        secret: the hub's key-encryption secret.
    """

    def __init__(self, secret: bytes) -> None:
        self._sealer = TextSealer(secret, _PURPOSE)

    def seal(self, namespace: str, secret: str) -> str:
        """The stored text of `secret` (from `new_secret`), bound to `namespace`."""
        return self._sealer.seal(namespace, bytes.fromhex(secret))

    def open(self, namespace: str, stored: str) -> str:
        """The secret sealed for `namespace`.

        Raises:
            WebhookSecretError: not sealed text, or sealed with another secret or namespace.
        """
        if not is_sealed(stored):
            raise WebhookSecretError("the stored webhook secret is not sealed")
        try:
            return self._sealer.open(namespace, stored).hex()
        except SealedTextError as exc:
            raise WebhookSecretError(
                "the webhook secret does not open with this hub's key-encryption secret"
            ) from exc
