"""Mount the content-trust service on the hub: its store, its sealing secret, its access check.

Notary clients reach the trust routes on the hub's own origin (`/v2/<gun>/_trust/...`). The
GUN carries the registry host (`127.0.0.1:5000/team/app`); access is decided on the repository
path, with the same controller as every registry request (`registry.auth.trust.check`: the
Bearer challenge names the GUN, as Notary's own server does). The verification gate
(`registry.services.contenttrust`) reads the same trust service.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from registry import keys
from registry.auth.scopes import canonical_repository, strip_host
from registry.auth.trust import check
from registry.db import hub_queries
from registry.keysecret import key_encryption_secret
from registry.services.contenttrust import ContentTrustPolicy
from registry.settings import Settings
from trust.server.app import TRUST_GATE, setup_trust_routes
from trust.server.handlers import Exposure
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
        exposure_check=_exposure,
    )
    app.cleanup_ctx.append(_content_trust)


async def _exposure(request: web.Request, gun: str) -> Exposure:
    """Public when the repository is; private otherwise (no repository profile yet too)."""
    settings = request.app[keys.SETTINGS]
    # The same name the access check decides on (a bare name is an official image with auth).
    name = canonical_repository(gun) if settings.auth_enabled else strip_host(gun)
    async with request.app[keys.ENGINE].connect() as conn:
        public = (await hub_queries.visibility_of(conn, [name])).get(name, False)
    return Exposure.PUBLIC if public else Exposure.PRIVATE


async def _content_trust(app: web.Application) -> AsyncIterator[None]:
    """The verification gate, over the trust service that the trust routes' context built."""
    app[keys.CONTENT_TRUST] = ContentTrustPolicy(
        app[TRUST_GATE], app[keys.MANIFESTS].reads, app[keys.ENGINE], strip_host
    )
    yield
