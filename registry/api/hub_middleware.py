"""The Hub's hooks around registry requests: official-image names, pulls, pushes, deletes.

Before a registry handler: the path's name is resolved to the repository it names (with auth
on, a bare name means `library/<name>`, as on Docker Hub, and a first component that is no
namespace names nothing), so access control and the handler see the same repository. After a
successful handler: a manifest GET counts a pull (in memory, see `registry.hub.pulls`), a
manifest PUT creates or touches the repository's Hub data and is audited, and deletes are
audited.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from registry import keys
from registry.api.handlers.common import resolve_repository
from registry.api.routes import REPOSITORY_ROUTES
from registry.auth.controller import IDENTITY

logger = logging.getLogger(__name__)

__all__ = ["hub_middleware"]

_DELETE_ROUTES = {"manifest-delete", "blob-delete"}


def _actor(request: web.Request) -> str:
    identity = request.get(IDENTITY)
    return identity.subject if identity is not None and identity.subject else "-"


@web.middleware
async def hub_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    route = request.match_info.route.name
    name = request.match_info.get("name")
    if name is None or route not in REPOSITORY_ROUTES:
        return await handler(request)
    name = request.match_info["name"] = resolve_repository(request, name)
    response = await handler(request)
    if route == "manifest-get" and response.status == 200:
        app[keys.PULLS].count(name, request.match_info.get("reference"))
    elif route == "manifest-put" and response.status == 201:
        await app[keys.REPOSITORIES].pushed(name)
        await app[keys.AUDIT].record(
            _actor(request),
            "push",
            name,
            request.remote or "",
            reference=request.match_info.get("reference", ""),
            digest=response.headers.get("Docker-Content-Digest", ""),
        )
    elif route in _DELETE_ROUTES and response.status == 202:
        await app[keys.AUDIT].record(
            _actor(request),
            "delete",
            name,
            request.remote or "",
            reference=request.match_info.get("reference") or request.match_info.get("digest"),
        )
    return response
