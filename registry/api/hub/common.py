"""Shared pieces of the Hub API handlers: the caller, request bodies, JSON shapes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web

from registry import keys
from registry.auth.access import Access
from registry.auth.policy import Principal
from registry.auth.scopes import canonical_repository
from registry.db.hub_queries import RepositoryInfo
from registry.errors import (
    DeniedError,
    InvalidRequestError,
    NameInvalidError,
    NotFoundError,
    UnauthorizedError,
)
from registry.oci.reference import is_valid_name

MAX_BODY = 64 * 1024  # bytes; API bodies are small JSON objects


def address(request: web.Request) -> str:
    return request.remote or ""


async def caller(request: web.Request) -> Principal | None:
    """The authenticated user, or None for anonymous callers."""
    return await request.app[keys.AUTH].principal(request)


async def require_user(request: web.Request) -> Principal:
    """The authenticated user.

    Raises:
        UnauthorizedError: anonymous (with a Basic challenge for API clients).
    """
    principal = await caller(request)
    if principal is None:
        exc = UnauthorizedError("log in to use this endpoint")
        exc.headers = {"WWW-Authenticate": 'Basic realm="berth-hub"'}  # type: ignore[attr-defined]
        raise exc
    return principal


async def require_admin(request: web.Request) -> Principal:
    principal = await require_user(request)
    if not principal.acts_as_admin:
        raise DeniedError("admins only")
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    """Access tokens may manage the account only with the needed scope.

    Raises:
        DeniedError: the token lacks it.
    """
    if not principal.may_use_scope(scope):
        raise DeniedError(f"this access token lacks the {scope!r} scope")


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
    """The canonical repository name from the path (a bare name is `library/<name>`).

    Raises:
        NameInvalidError: not a valid repository name.
    """
    raw = request.match_info["name"]
    name = canonical_repository(raw) if request.app[keys.SETTINGS].auth_enabled else raw
    if not is_valid_name(name):
        raise NameInvalidError(name=raw)
    return name


async def require_actions(request: web.Request, name: str, actions: set[str]) -> Principal | None:
    """The caller, when it holds `actions` on the repository (anyone on an open registry).

    Raises:
        NotFoundError: the caller may not even pull it (so private names do not leak).
        UnauthorizedError, DeniedError: it may pull but not do the rest.
    """
    principal = await caller(request)
    if not request.app[keys.SETTINGS].auth_enabled:
        return principal
    grants = request.app[keys.AUTH].grants
    held = await grants.actions(
        principal, Access("repository", name, frozenset(actions | {"pull"}))
    )
    if "pull" not in held:
        raise NotFoundError(f"no repository {name!r}", name=name)
    if not actions <= held:
        if principal is None:
            raise UnauthorizedError("log in to change this repository")
        raise DeniedError("requested access to the resource is denied", name=name)
    return principal


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
