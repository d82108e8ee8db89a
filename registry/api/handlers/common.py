"""Path parsing shared by the handlers: typed values out of `match_info`, or domain errors."""

from __future__ import annotations

from contextvars import ContextVar

from aiohttp import web

from registry import keys
from registry.auth.controller import IDENTITY
from registry.errors import NameInvalidError, PaginationInvalidError
from registry.hub.names import path_problem, repository_of_path
from registry.oci.reference import is_valid_name
from registry.services.manifests import PushRecord
from registry.webhooks.events import Cause

MAX_PAGE_SIZE = 10000


# The request being handled, for code below the handlers that reports on it without taking it
# as a parameter (the trust store's write hook, see `registry.trustmount`).
CURRENT_REQUEST: ContextVar[web.Request | None] = ContextVar("berth_request", default=None)

# What the Hub writes about a manifest push, in the push's own transaction (set by
# `registry.api.hub_middleware`, passed on by the manifest PUT handler).
PUSH_RECORD = web.RequestKey("berth_push_record", PushRecord)


def request_origin(request: web.Request) -> str:
    """The hub's URL as the client named it (`http://hub.example:5000`)."""
    return f"{request.scheme}://{request.host}"


def cause(request: web.Request, actor: str | None = None) -> Cause:
    """Who the request acts as (the credential's user unless `actor` is given) and from
    which URL, for the webhook events it causes."""
    if actor is None:
        identity = request.get(IDENTITY)
        actor = identity.subject if identity is not None and identity.subject else "-"
    return Cause(actor, request_origin(request))


def repository_name(request: web.Request) -> str:
    """The `<name>` path segment, validated against the spec's expression.

    Raises:
        NameInvalidError: it does not match.
    """
    name = request.match_info["name"]
    if not is_valid_name(name):
        raise NameInvalidError(name=name)
    return name


def resolve_repository(request: web.Request, raw: str) -> str:
    """The repository a path's `<name>` (or a mount's `from=`) names.

    On the hub (auth on) names follow `registry.hub.names`: a bare `app` is `library/app`, and
    a first component that is no namespace (`carol.dev`, `localhost`) names nothing. The open
    registry keeps any name the spec allows, as written.

    Raises:
        NameInvalidError: the name names no repository here.
    """
    if not request.app[keys.SETTINGS].auth_enabled:
        if not is_valid_name(raw):
            raise NameInvalidError(name=raw)
        return raw
    name = repository_of_path(raw)
    if name is None:
        raise NameInvalidError(path_problem(raw), name=raw)
    return name


def pagination(request: web.Request) -> tuple[int | None, str | None]:
    """`n` and `last` query parameters (distribution-spec "Listing Tags").

    Raises:
        PaginationInvalidError: `n` is not a non-negative integer.
    """
    raw = request.query.get("n")
    limit = None
    if raw is not None:
        if not (raw.isascii() and raw.isdigit()):
            raise PaginationInvalidError(n=raw)
        limit = min(int(raw), MAX_PAGE_SIZE)
    return limit, request.query.get("last") or None


def next_link(request: web.Request, limit: int | None, items: list[str]) -> dict[str, str]:
    """The RFC 5988 `Link` header for the next page, when the page came back full."""
    if limit is None or not items or len(items) < limit:
        return {}
    url = request.rel_url.with_query({"n": str(limit), "last": items[-1]})
    return {"Link": f'<{url}>; rel="next"'}
