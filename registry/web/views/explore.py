"""Explore and search: the repositories the caller may see, best first.

The same service call, ranking and visibility as the Hub API's `/api/v1/search` and Docker's
`/v1/search` (exact name, then official, stars and pulls).
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from registry import keys
from registry.api.hub.repositories import visibility_for
from registry.web.render import render
from registry.web.views.common import display_name, pager


async def explore(request: web.Request) -> web.Response:
    query = request.query.get("q", "")[:200]
    official = request.query.get("official") == "1"
    starred = request.query.get("starred") == "1"
    wanted = pager(request)
    total, infos = await request.app[keys.REPOSITORIES].search(
        await visibility_for(request),
        query=query,
        official_only=official,
        min_stars=1 if starred else 0,
        limit=wanted.size,
        offset=wanted.offset,
    )
    filters = {"q": query, "official": "1" if official else "", "starred": "1" if starred else ""}
    base = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "explore/index.html",
        {
            "query": query,
            "official": official,
            "starred": starred,
            "pager": wanted.with_total(total),
            "page_link": f"/?{base}&page=" if base else "/?page=",
            "results": [(info, display_name(info.name)) for info in infos],
        },
    )
