"""`GET /v2/<name>/tags/list` with `n`/`last` pagination.

Per the distribution-spec, tags come in lexical order; a full page carries a `Link` header to
the next one.
"""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.handlers.common import next_link, pagination, repository_name


async def list_tags(request: web.Request) -> web.Response:
    name = repository_name(request)
    limit, last = pagination(request)
    tags = await request.app[keys.MANIFESTS].tags(name, limit, last)
    return web.json_response({"name": name, "tags": tags}, headers=next_link(request, limit, tags))
