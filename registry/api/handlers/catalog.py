"""`GET /v2/_catalog` with `n`/`last` pagination, listing only what the caller may see."""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.handlers.common import next_link, pagination


async def catalog(request: web.Request) -> web.Response:
    limit, last = pagination(request)
    manifests, access = request.app[keys.MANIFESTS], request.app[keys.ACCESS]
    names: list[str] = []
    cursor = last
    # Hidden repositories would leave holes in a page; read on until the page is full.
    while True:
        page = await manifests.catalog(limit, cursor)
        names += await access.visible(request, page)
        if limit is None or not page or len(page) < limit or len(names) >= limit:
            break
        cursor = page[-1]
    if limit is not None:
        names = names[:limit]
    return web.json_response({"repositories": names}, headers=next_link(request, limit, names))
