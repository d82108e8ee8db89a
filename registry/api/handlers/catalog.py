"""`GET /v2/_catalog` with `n`/`last` pagination."""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.handlers.common import next_link, pagination


async def catalog(request: web.Request) -> web.Response:
    limit, last = pagination(request)
    names = await request.app[keys.MANIFESTS].catalog(limit, last)
    return web.json_response({"repositories": names}, headers=next_link(request, limit, names))
