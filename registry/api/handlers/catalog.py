"""`GET /v2/_catalog` with `n`/`last` pagination, listing only what the caller may see."""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.handlers.common import next_link, pagination


async def catalog(request: web.Request) -> web.Response:
    limit, last = pagination(request)
    visibility = await request.app[keys.ACCESS].visibility(request)
    # Filtered in the query: hidden repositories leave no holes in a page.
    names = await request.app[keys.MANIFESTS].catalog(limit, last, visibility)
    return web.json_response({"repositories": names}, headers=next_link(request, limit, names))
