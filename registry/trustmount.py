"""Mount the content-trust service on the hub: its store, its sealing secret, its access check.

Notary clients reach the trust routes on the hub's own origin (`/v2/<gun>/_trust/...`). The
GUN carries the registry host (`127.0.0.1:5000/team/app`); access is decided on the repository
path, with the same controller as every registry request (`registry.auth.trust.check`: the
Bearer challenge names the GUN, as Notary's own server does). The verification gate
(`registry.services.contenttrust`) reads the same trust service.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from registry import keys
from registry.auth.trust import check
from registry.hub.names import gun_path, repository_of_scope
from registry.keysecret import key_encryption_secret
from registry.services.contenttrust import ContentTrustPolicy
from registry.settings import Settings
from trust.server.app import TRUST_GATE, setup_trust_routes
from trust.server.settings import TrustServerSettings
from trust.server.store.sql import SqlMetaStore

logger = logging.getLogger(__name__)

__all__ = ["mount_trust"]


def mount_trust(app: web.Application, settings: Settings) -> None:
    """Add the trust routes; call after the database cleanup context, before registry routes."""
    setup_trust_routes(
        app,
        store_factory=lambda app: SqlMetaStore(app[keys.ENGINE]),
        settings=TrustServerSettings(key_encryption_secret=key_encryption_secret(settings)),
        access_check=check,
    )
    app.cleanup_ctx.append(_content_trust)


def _repository_of_gun(app: web.Application) -> Callable[[str], str | None]:
    # The open registry keeps names as written; the hub maps them onto its namespaces.
    return repository_of_scope if app[keys.SETTINGS].auth_enabled else gun_path


async def _content_trust(app: web.Application) -> AsyncIterator[None]:
    """The verification gate, over the trust service that the trust routes' context built."""
    app[keys.CONTENT_TRUST] = ContentTrustPolicy(
        app[TRUST_GATE], app[keys.MANIFESTS].reads, app[keys.ENGINE], _repository_of_gun(app)
    )
    yield
