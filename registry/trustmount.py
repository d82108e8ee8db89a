"""Mount the content-trust service on the hub: its store, its sealing secret, its access check.

Notary clients reach the trust routes on the hub's own origin (`/v2/<gun>/_trust/...`). The
GUN carries the registry host (`127.0.0.1:5000/team/app`); access is decided on the repository
path, with the same controller as every registry request (`registry.auth.trust.check`: the
Bearer challenge names the GUN, as Notary's own server does). The verification gate
(`registry.services.contenttrust`) reads the same trust service.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator

from aiohttp import web

from registry import keys
from registry.auth.scopes import strip_host
from registry.auth.trust import check
from registry.services.contenttrust import ContentTrustPolicy
from registry.settings import Settings
from trust.server.app import TRUST_GATE, setup_trust_routes
from trust.server.settings import TrustServerSettings
from trust.server.store.sql import SqlMetaStore

logger = logging.getLogger(__name__)

__all__ = ["key_encryption_secret", "mount_trust"]

SECRET_FILE = "trust-key-secret"


def key_encryption_secret(settings: Settings) -> bytes:
    """The secret sealing server-held trust keys.

    From the settings when given (several replicas must share one); else a random secret kept
    in the data directory, made on first start.
    """
    if settings.trust_key_secret:
        return settings.trust_key_secret.encode()
    path = settings.data_dir / SECRET_FILE
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        logger.info("created the trust key-encryption secret in %s", path)
    return path.read_text().strip().encode()


def mount_trust(app: web.Application, settings: Settings) -> None:
    """Add the trust routes; call after the database cleanup context, before registry routes."""
    setup_trust_routes(
        app,
        store_factory=lambda app: SqlMetaStore(app[keys.ENGINE]),
        settings=TrustServerSettings(key_encryption_secret=key_encryption_secret(settings)),
        access_check=check,
    )
    app.cleanup_ctx.append(_content_trust)


async def _content_trust(app: web.Application) -> AsyncIterator[None]:
    """The verification gate, over the trust service that the trust routes' context built."""
    app[keys.CONTENT_TRUST] = ContentTrustPolicy(
        app[TRUST_GATE], app[keys.MANIFESTS].reads, app[keys.ENGINE], strip_host
    )
    yield
