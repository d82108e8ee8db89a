"""Mount the trust server on the hub's aiohttp application.

The hub calls, from its app factory, after the cleanup context that creates its database
engine and before registering its own `/v2/{name}/...` routes::

    setup_trust_routes(
        app,
        store_factory=lambda app: SqlMetaStore(app[keys.ENGINE]),
        settings=TrustServerSettings(key_encryption_secret=...),
        access_check=check,  # async (request, gun, actions) -> None, raises 401/403
    )

Routes (notary-server 0.7; `{gun}` may contain `/` and `:`)::

    GET    /v2/{gun}/_trust/tuf/{role}.json | {role}.{hash}.json | {N}.{role}.json
    GET    /v2/{gun}/_trust/tuf/{snapshot,timestamp}.key      create-on-first-use
    POST   /v2/{gun}/_trust/tuf/{snapshot,timestamp}.key      rotate
    POST   /v2/{gun}/_trust/tuf/                              atomic multipart publish
    DELETE /v2/{gun}/_trust/tuf/
    GET    /v2/{gun}/_trust/changefeed, /v2/_trust/changefeed
    GET    /_notary_server/health

`app[TRUST_GATE]` (a `TrustGate`) answers the verification gate's "is this tag signed".
Route names start with `trust-`. `GET /v2/` (the ping) stays the hub's; `create_trust_app`
builds a stand-alone trust server (ping included) for tests, benchmarks and development.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from trust.server.gate import TrustGate
from trust.server.handlers import (
    TRUST_ACCESS,
    TRUST_EXPOSURE,
    TRUST_SERVICE,
    AccessCheck,
    Exposure,
    ExposureCheck,
    TrustHandlers,
)
from trust.server.service import TrustService
from trust.server.settings import TrustServerSettings
from trust.server.store.base import MetaStore

__all__ = [
    "TRUST_GATE",
    "TRUST_SERVICE",
    "allow_all",
    "always_public",
    "create_trust_app",
    "setup_trust_routes",
]

TRUST_GATE = web.AppKey("trust_gate", TrustGate)

_GUN = "{gun:[^*]+?}"


def setup_trust_routes(
    app: web.Application,
    store_factory: Callable[[web.Application], MetaStore],
    settings: TrustServerSettings,
    access_check: AccessCheck,
    exposure_check: ExposureCheck | None = None,
    generation_factory: Callable[[web.Application], Callable[[], object]] | None = None,
) -> None:
    """Register the trust routes and a cleanup context that builds the trust service.

    Args:
        app: the hub's application (before it starts).
        store_factory: called once at startup (after earlier cleanup contexts ran, so it
            can use the hub's engine) to make the `MetaStore`.
        settings: trust-server settings.
        access_check: awaited before every handler with (request, gun, actions).
        exposure_check: whether a GUN's metadata is public or private, for caches (default:
            every GUN public, as a stand-alone notary server treats them).
        generation_factory: called at startup like `store_factory`, for a function whose value
            changes with every commit to the store by any process: current documents are then
            served from memory only while it stays the same, and never while it answers None
            (it cannot tell). Without one, for `read_cache_seconds` (a single process).
    """

    async def trust_service(app: web.Application) -> AsyncIterator[None]:
        generation = generation_factory(app) if generation_factory is not None else None
        service = TrustService(store_factory(app), settings, store_generation=generation)
        app[TRUST_SERVICE] = service
        app[TRUST_GATE] = TrustGate(service)
        yield

    app.cleanup_ctx.append(trust_service)
    app[TRUST_ACCESS] = access_check
    app[TRUST_EXPOSURE] = exposure_check or always_public
    handlers = TrustHandlers(settings.max_upload_bytes)
    prefix = f"/v2/{_GUN}/_trust"
    router = app.router
    # Metadata GETs first: every signed pull makes several, and the router tries resources in
    # order (no other trust route answers a GET of `tuf/<file>`).
    router.add_get(prefix + "/tuf/{file:[^*]+}", handlers.get_file, name="trust-get")
    router.add_get("/_notary_server/health", handlers.health, name="trust-health")
    router.add_get("/v2/_trust/changefeed", handlers.changefeed, name="trust-changefeed-all")
    router.add_get(f"{prefix}/changefeed", handlers.changefeed, name="trust-changefeed")
    router.add_post(f"{prefix}/tuf/", handlers.publish, name="trust-publish")
    router.add_delete(f"{prefix}/tuf/", handlers.delete, name="trust-delete")
    router.add_post(
        prefix + "/tuf/{role:snapshot|timestamp}.key", handlers.rotate_key, name="trust-rotate-key"
    )


async def allow_all(request: web.Request, gun: str, actions: frozenset[str]) -> None:
    """An access check that allows everything (stand-alone development and tests)."""


async def always_public(request: web.Request, gun: str) -> Exposure:
    """An exposure check for a stand-alone server: every GUN is public."""
    return Exposure.PUBLIC


async def _ping(request: web.Request) -> web.Response:
    # Clients ping GET /v2/ before every session; 200 "{}" means no authentication needed.
    return web.json_response({})


def create_trust_app(
    store: MetaStore,
    settings: TrustServerSettings,
    access_check: AccessCheck = allow_all,
) -> web.Application:
    """A stand-alone trust server: the trust routes plus `GET /v2/`.

    Args:
        store: where metadata and server keys live.
        settings: trust-server settings.
        access_check: the authorisation hook (default: allow all).
    """
    app = web.Application(client_max_size=settings.max_upload_bytes)
    app.router.add_get("/v2/", _ping, name="trust-ping")
    setup_trust_routes(app, lambda _: store, settings, access_check)
    return app
