"""The Hub's hooks around registry requests: official-image names, pulls, pushes, deletes.

Before a registry handler: the path's name is resolved to the repository it names (with auth
on, a bare name means `library/<name>`, as on Docker Hub, and a first component that is no
namespace names nothing), so access control and the handler see the same repository. After a
successful handler: a manifest GET counts a pull (in memory, see `registry.hub.pulls`) and, by
tag, makes a `pull` webhook event where a webhook wants one; a manifest refused by the signature
gate makes a `signature_denied` event; deletes are audited. A manifest PUT creates or touches the
repository's Hub data and is audited inside the push's own transaction (`PUSH_RECORD`).
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.ext.asyncio import AsyncConnection

from registry import keys
from registry.api.handlers.common import (
    CURRENT_REQUEST,
    PUSH_RECORD,
    cause,
    resolve_repository,
)
from registry.api.routes import REPOSITORY_ROUTES
from registry.auth.controller import IDENTITY
from registry.auth.scopes import namespace_of
from registry.errors import UnsignedContentError
from registry.oci.digest import Digest
from registry.services.manifests import PushRecord
from registry.webhooks.events import EventType

logger = logging.getLogger(__name__)

__all__ = ["hub_middleware"]

_DELETE_ROUTES = {"manifest-delete", "blob-delete"}


def _actor(request: web.Request) -> str:
    identity = request.get(IDENTITY)
    return identity.subject if identity is not None and identity.subject else "-"


def _push_record(request: web.Request, name: str) -> PushRecord:
    """A push creates or touches the repository's profile and is audited, in its own
    transaction (one commit per push)."""
    app = request.app

    async def record(conn: AsyncConnection, digest: Digest) -> None:
        await app[keys.REPOSITORIES].note_push(conn, name)
        await app[keys.AUDIT].add(
            conn,
            _actor(request),
            "push",
            name,
            request.remote or "",
            reference=request.match_info.get("reference", ""),
            digest=str(digest),
        )

    return record


@web.middleware
async def hub_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    route = request.match_info.route.name
    name = request.match_info.get("name")
    if route == "trust-publish":
        # The trust store's write hook names this request's caller in its webhook event.
        CURRENT_REQUEST.set(request)
    if name is None or route not in REPOSITORY_ROUTES:
        return await handler(request)
    name = request.match_info["name"] = resolve_repository(request, name)
    if route == "manifest-put":
        request[PUSH_RECORD] = _push_record(request, name)
    try:
        response = await handler(request)
    except UnsignedContentError as exc:
        reference = request.match_info.get("reference", "")
        tag, digest = (None, reference) if ":" in reference else (reference, None)
        await app[keys.WEBHOOKS].record(
            cause(request).event(
                EventType.SIGNATURE_DENIED, name, tag=tag, digest=digest, reason=exc.message
            )
        )
        raise
    if route == "manifest-get" and response.status == 200:
        reference = request.match_info.get("reference", "")
        app[keys.PULLS].count(name, reference)
        if ":" not in reference and await app[keys.WEBHOOKS].wants_pulls(namespace_of(name)):
            event = cause(request).event(
                EventType.PULL, name, tag=reference,
                digest=response.headers.get("Docker-Content-Digest"),
            )
            await app[keys.WEBHOOKS].record(event)
    elif route in _DELETE_ROUTES and response.status == 202:
        await app[keys.AUDIT].record(
            _actor(request),
            "delete",
            name,
            request.remote or "",
            reference=request.match_info.get("reference") or request.match_info.get("digest"),
        )
    return response
