"""The Hub's hooks around registry requests: official-image names, pulls, pushes, deletes.

Before the handler (with auth on): a bare repository name means `library/<name>`, as on
Docker Hub, so the path's name is rewritten before access control sees it. After a successful
handler: a manifest GET counts a pull (in memory, see `registry.hub.pulls`), a manifest PUT
creates or touches the repository's Hub data and is audited, and deletes are audited.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from registry import keys
from registry.auth.controller import IDENTITY
from registry.auth.scopes import LIBRARY

logger = logging.getLogger(__name__)

__all__ = ["hub_middleware"]

_DELETE_ROUTES = {"manifest-delete", "blob-delete"}


def _actor(request: web.Request) -> str:
    identity = request.get(IDENTITY)
    return identity.subject if identity is not None and identity.subject else "-"


@web.middleware
async def hub_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    app = request.app
    name = request.match_info.get("name")
    if name is not None and "/" not in name and app[keys.SETTINGS].auth_enabled:
        name = f"{LIBRARY}/{name}"
        request.match_info["name"] = name
    response = await handler(request)
    route = request.match_info.route.name
    if name is None or route is None:
        return response
    if route == "manifest-get" and response.status == 200:
        app[keys.PULLS].count(name)
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
