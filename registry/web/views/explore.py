"""Explore and search: the repositories the caller may see, best first.

The same service call, ranking and visibility as the Hub API's `/api/v1/search` and Docker's
`/v1/search` (exact name, then official, stars and pulls). The "signed" filter keeps, in that
order, the repositories with at least one tag signed with Docker Content Trust; trust data is
not in the search index, so it looks at the first `SIGNED_SCAN_LIMIT` matches only.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from registry import keys
from registry.api.hub.common import visibility as caller_visibility
from registry.db.hub_queries import RepositoryInfo, Visibility
from registry.web.render import render
from registry.web.views.common import Pager, display_name, pager

SIGNED_SCAN_LIMIT = 1000  # matches examined for the "signed" filter
_SCAN_BATCH = 100


@dataclass(frozen=True, slots=True)
class _Filters:
    query: str
    official: bool
    min_stars: int


async def _search(
    request: web.Request, visibility: Visibility, filters: _Filters, limit: int, offset: int
) -> tuple[int, list[RepositoryInfo]]:
    return await request.app[keys.REPOSITORIES].search(
        visibility,
        query=filters.query,
        official_only=filters.official,
        min_stars=filters.min_stars,
        limit=limit,
        offset=offset,
    )


async def _signed_page(
    request: web.Request, visibility: Visibility, filters: _Filters, wanted: Pager
) -> tuple[int, list[RepositoryInfo]]:
    """One page of the matches that hold a signed tag, and how many of the scanned do."""
    trust = request.app[keys.CONTENT_TRUST]
    signed: list[RepositoryInfo] = []
    for offset in range(0, SIGNED_SCAN_LIMIT, _SCAN_BATCH):
        total, batch = await _search(request, visibility, filters, _SCAN_BATCH, offset)
        signed += [info for info in batch if await trust.signed_tags(info.name)]
        if offset + _SCAN_BATCH >= total:
            break
    return len(signed), signed[wanted.offset : wanted.offset + wanted.size]


async def explore(request: web.Request) -> web.Response:
    query = request.query.get("q", "")[:200]
    official = request.query.get("official") == "1"
    starred = request.query.get("starred") == "1"
    signed = request.query.get("signed") == "1"
    wanted = pager(request)
    visibility = await caller_visibility(request)
    search = _Filters(query, official, 1 if starred else 0)
    if signed:
        total, infos = await _signed_page(request, visibility, search, wanted)
    else:
        total, infos = await _search(request, visibility, search, wanted.size, wanted.offset)
    filters = {
        "q": query,
        "official": "1" if official else "",
        "starred": "1" if starred else "",
        "signed": "1" if signed else "",
    }
    base = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "explore/index.html",
        {
            "query": query,
            "official": official,
            "starred": starred,
            "signed": signed,
            "pager": wanted.with_total(total),
            "page_link": f"/?{base}&page=" if base else "/?page=",
            "results": [(info, display_name(info.name)) for info in infos],
        },
    )
