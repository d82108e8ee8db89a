"""Mount the content-trust service on the hub: its store, its sealing secret, its access check.

Notary clients reach the trust routes on the hub's own origin (`/v2/<gun>/_trust/...`). The
GUN carries the registry host (`127.0.0.1:5000/team/app`); access is decided on the repository
path, with the same controller as every registry request (`registry.auth.trust.check`: the
Bearer challenge names the GUN, as Notary's own server does). The verification gate
(`registry.services.contenttrust`) reads the same trust service.

`TRUST_RULES` declares the hub's authorisation rule for each trust route (by the route names
the trust package gives them); the hub's authorisation middleware enforces them like its own.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from registry import keys
from registry.api.handlers.common import CURRENT_REQUEST, cause
from registry.auth.rules import Rule
from registry.auth.trust import check
from registry.db import auth_reads, webhook_queries
from registry.db.hotwrites import hot
from registry.hub.names import gun_path, repository_of_scope
from registry.keysecret import key_encryption_secret
from registry.services.contenttrust import ContentTrustPolicy
from registry.services.signatures import SignatureGate
from registry.settings import Settings
from registry.webhooks.events import ANONYMOUS_CAUSE, EventType
from trust.server.app import TRUST_GATE, setup_trust_routes
from trust.server.handlers import Exposure
from trust.server.settings import TrustServerSettings
from trust.server.store.sql import WRITE_STATEMENTS, InTransaction, SqlMetaStore, UpdateHook

logger = logging.getLogger(__name__)

__all__ = ["TRUST_RULES", "mount_trust"]

TRUST_RULES: dict[str, Rule] = {
    "trust-health": Rule.open(),
    # Every repository's changes: hub admins (a password or an `admin` access token).
    "trust-changefeed-all": Rule.hub_admin(),
    "trust-changefeed": Rule.repository("pull"),
    # Reading metadata needs pull; `{snapshot,timestamp}.key` needs push as well (the trust
    # handler asks for it: fetching a server key may create it).
    "trust-get": Rule.repository("pull"),
    "trust-publish": Rule.repository("push"),
    "trust-rotate-key": Rule.repository("*"),
    "trust-delete": Rule.repository("*"),
}


# A publish's transaction runs on the SQLite writer's raw driver, as a push's does.
for _statement in WRITE_STATEMENTS:
    hot(_statement)


# Repository name -> (the database generation it was read at, its exposure).
_EXPOSURES = web.AppKey("trust_exposures", dict[str, tuple[object, Exposure]])
_MAX_EXPOSURES = 4096


def mount_trust(app: web.Application, settings: Settings) -> None:
    """Add the trust routes; call after the database cleanup context, before registry routes."""
    app[_EXPOSURES] = {}
    setup_trust_routes(
        app,
        store_factory=_store,
        settings=TrustServerSettings(key_encryption_secret=key_encryption_secret(settings)),
        access_check=check,
        exposure_check=_exposure,
        # Another hub process's publish is seen at once: on SQLite current documents are kept
        # while the database's data version holds; elsewhere they are read on every request.
        generation_factory=lambda app: app[keys.READS].generation,
    )
    app.cleanup_ctx.append(_content_trust)


def _store(app: web.Application) -> SqlMetaStore:
    """The trust store on the hub's database, writing through the hub's writer (on SQLite one
    thread, one hop per transaction) and reading the publish path's rows on its hot reads."""
    return SqlMetaStore(
        app[keys.ENGINE],
        on_update=_published(app),
        transactions=app[keys.WRITER].run,
        reader=app[keys.READS].fetch,
    )


def _published(app: web.Application) -> UpdateHook:
    """The trust store's write hook: a publish that changes signed tags (a targets role) writes
    a `trust_publish` webhook event in the same transaction."""

    def prepare(gun: str, roles: Sequence[str]) -> InTransaction | None:
        name = _repository_of_gun(app)(gun)
        if name is None or not any(role.startswith("targets") for role in roles):
            return None
        # Asked on the event loop: the transaction may run on the writer's thread, outside
        # this request's context.
        request = CURRENT_REQUEST.get()
        event = (cause(request) if request is not None else ANONYMOUS_CAUSE).event(
            EventType.TRUST_PUBLISH, name
        )
        worker = app[keys.WEBHOOK_WORKER]
        loop = asyncio.get_running_loop()

        async def record(conn: AsyncConnection) -> None:
            if await webhook_queries.record_event(conn, event, datetime.now(UTC)):
                loop.call_soon_threadsafe(worker.wake)

        return record

    return prepare


def _repository_of_gun(app: web.Application) -> Callable[[str], str | None]:
    # The open registry keeps names as written; the hub maps them onto its namespaces.
    return repository_of_scope if app[keys.SETTINGS].auth_enabled else gun_path


async def _exposure(request: web.Request, gun: str) -> Exposure:
    """Public when the repository is; private otherwise (no repository profile yet too).

    Asked on every metadata GET. An answer is kept while the database's generation holds (on
    SQLite, until any process commits: a repository made private is never answered public),
    and never where the generation cannot be known."""
    # The same name the access check decides on (a bare name is an official image with auth).
    name = _repository_of_gun(request.app)(gun)
    if name is None:
        return Exposure.PRIVATE
    reads = request.app[keys.READS]
    known = request.app[_EXPOSURES]
    generation = reads.generation()  # before the read: a commit in between is never hidden
    if generation is not None and name in known and known[name][0] == generation:
        return known[name][1]
    rows = await reads.fetch(auth_reads.REPOSITORY_PUBLIC, {"repo": name})
    exposure = Exposure.PUBLIC if rows and rows[0][0] else Exposure.PRIVATE
    if generation is not None:
        if len(known) >= _MAX_EXPOSURES:
            known.clear()
        known[name] = (generation, exposure)
    return exposure


async def _content_trust(app: web.Application) -> AsyncIterator[None]:
    """The verification gate, over the trust service that the trust routes' context built."""
    gate = app[TRUST_GATE]
    signatures = SignatureGate(
        app[keys.ENGINE],
        app[keys.MANIFESTS].reads,
        app[keys.MANIFESTS],
        app[keys.BLOBS],
        gate.service.clock,
    )
    app[keys.CONTENT_TRUST] = ContentTrustPolicy(
        gate, app[keys.MANIFESTS].reads, app[keys.ENGINE], _repository_of_gun(app), signatures
    )
    yield
