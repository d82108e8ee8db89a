"""Shared pieces of the Hub API handlers: the caller, request bodies, JSON shapes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from registry import keys
from registry.api.handlers.common import resolve_repository
from registry.auth.controller import IDENTITY
from registry.auth.policy import Principal
from registry.db.hub_queries import RepositoryInfo, Visibility
from registry.errors import InvalidRequestError

MAX_BODY = 64 * 1024  # bytes; API bodies are small JSON objects


def address(request: web.Request) -> str:
    return request.remote or ""


def actor(request: web.Request) -> str:
    """Who the audit log names for the request: the credential's user, or `-`."""
    identity = request.get(IDENTITY)
    return identity.subject if identity is not None and identity.subject else "-"


ACCOUNT = web.RequestKey("berth_account", Principal)


def acting_account(request: web.Request) -> Principal:
    """The account the route's rule admitted (set by `registry.api.authorization`).

    Raises:
        RuntimeError: the route's rule admits no account (a programming error).
    """
    account = request.get(ACCOUNT)
    if account is None:
        raise RuntimeError(f"route {request.match_info.route.name} has no account rule")
    return account


async def visibility(request: web.Request) -> Visibility:
    """What the caller may see besides public repositories (listings and search)."""
    auth = request.app[keys.AUTH]
    return await auth.grants.visibility(await auth.listing_principal(request))


async def require_actions(request: web.Request, name: str, actions: set[str]) -> Principal | None:
    """The acting account, when the caller holds `actions` on the repository (anyone on an
    open registry); for checks beyond the route's rule.

    Raises:
        NotFoundError: the caller may not even pull it (so private names do not leak).
        UnauthorizedError, DeniedError: it may pull but not do the rest.
    """
    if not request.app[keys.SETTINGS].auth_enabled:
        return request.get(ACCOUNT)
    return await request.app[keys.AUTH].repository_actions(request, name, frozenset(actions))


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body.

    Raises:
        InvalidRequestError: not a JSON object, or too large.
    """
    data = await request.content.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise InvalidRequestError("request body too large")
    try:
        body = json.loads(data or b"{}")
    except (ValueError, RecursionError) as exc:  # RecursionError: nested beyond the decoder
        raise InvalidRequestError("request body is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequestError("request body must be a JSON object")
    return body


def field(body: dict[str, Any], name: str, kind: type, *, required: bool = True) -> Any:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InvalidRequestError(f"{name!r} must be a {kind.__name__}", field=name)
    return value


def repository_name(request: web.Request) -> str:
    """The repository the path names (`registry.api.handlers.common.resolve_repository`).

    Raises:
        NameInvalidError: it names no repository here.
    """
    return resolve_repository(request, request.match_info["name"])


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def repository_json(info: RepositoryInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "namespace": info.namespace,
        "repository": info.name.split("/", 1)[-1],
        "description": info.description,
        "is_public": info.is_public,
        "is_official": info.is_official,
        "star_count": info.star_count,
        "pull_count": info.pull_count,
        "last_pushed": timestamp(info.last_pushed_at),
        "created": timestamp(info.created_at),
    }
