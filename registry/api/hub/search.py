"""Search: the Hub JSON API (`/api/v1/search`) and Docker's v1 API (`/v1/search`).

Docker's daemon sends `GET /v1/search?q=TERM&n=LIMIT` (and applies `--filter` itself); the
answer is `{"num_results", "query", "page", "num_pages", "page_size", "results": [{"name",
"description", "star_count", "is_official", "is_automated"}]}`. Ranking: exact name first,
then official images, then stars and pulls.
"""

from __future__ import annotations

import math

from aiohttp import web

from registry import keys
from registry.api.hub.common import visibility
from registry.api.hub.paging import page, page_json
from registry.api.hub.repositories import display_name
from registry.api.params import non_negative_int
from registry.errors import InvalidRequestError


def _min_stars(request: web.Request) -> int:
    stars = non_negative_int(request.query.get("stars", "0"))
    if stars is None:
        raise InvalidRequestError("stars must be a non-negative 64-bit integer")
    return stars


async def search(request: web.Request) -> web.Response:
    wanted = page(request)
    query = request.query.get("q", "")
    total, infos = await request.app[keys.REPOSITORIES].search(
        await visibility(request),
        query=query,
        official_only=request.query.get("is_official", "").lower() == "true",
        min_stars=_min_stars(request),
        limit=wanted.size,
        offset=wanted.offset,
    )
    return web.json_response({"query": query, **page_json(wanted, total, infos)})


async def v1_search(request: web.Request) -> web.Response:
    wanted = page(request, size_param="n")
    query = request.query.get("q", "")
    total, infos = await request.app[keys.REPOSITORIES].search(
        await visibility(request), query=query, limit=wanted.size, offset=wanted.offset
    )
    return web.json_response(
        {
            "num_results": total,
            "query": query,
            "page": wanted.number,
            "num_pages": max(1, math.ceil(total / wanted.size)),
            "page_size": wanted.size,
            "results": [
                {
                    "name": display_name(info.name),
                    "description": info.description,
                    "star_count": info.star_count,
                    "pull_count": info.pull_count,
                    "is_official": info.is_official,
                    "is_automated": False,
                    "is_trusted": False,
                }
                for info in infos
            ],
        }
    )


async def v1_ping(request: web.Request) -> web.Response:
    """Docker's daemon pings `/v1/_ping` before a v1 search."""
    return web.json_response(True, headers={"X-Docker-Registry-Standalone": "true"})
