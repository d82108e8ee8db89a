"""Paged repository listings, shared by the Hub API's list and search endpoints.

Scope: reading the page number and size from the query, and the Hub API's
`{"count", "page", "page_size", "results"}` JSON. Not the search filters (each endpoint reads
its own) nor Docker's v1 search answer (`search.py` shapes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from registry.api.hub.common import repository_json
from registry.api.params import INT64_MAX, non_negative_int
from registry.db.hub_queries import RepositoryInfo
from registry.errors import InvalidRequestError

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Page:
    """Which page of a listing the caller asked for: 1-based number and size."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        """How many results come before this page."""
        return (self.number - 1) * self.size


def page_json(wanted: Page, total: int, repositories: list[RepositoryInfo]) -> dict[str, Any]:
    """The Hub API's page: the total count, page number and size, and the repositories."""
    return {
        "count": total,
        "page": wanted.number,
        "page_size": wanted.size,
        "results": [repository_json(info) for info in repositories],
    }


def page(request: web.Request, size_param: str = "page_size") -> Page:
    """The page from the query, 1-based, its size at most MAX_PAGE_SIZE.

    Args:
        request: the request whose `page` and `size_param` query parameters to read.
        size_param: the name of the page-size parameter (Docker's v1 search uses `n`).

    Raises:
        InvalidRequestError: not integers, or below 1.
    """
    number = non_negative_int(request.query.get("page", "1"))
    size = non_negative_int(request.query.get(size_param, str(DEFAULT_PAGE_SIZE)))
    if number is None or size is None:
        raise InvalidRequestError("page and page size must be non-negative 64-bit integers")
    if number < 1 or size < 1:
        raise InvalidRequestError("page and page size start at 1")
    wanted = Page(number, min(size, MAX_PAGE_SIZE))
    if wanted.offset > INT64_MAX:
        raise InvalidRequestError("page is beyond any listing", page=number)
    return wanted
