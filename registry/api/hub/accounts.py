"""`/api/v1/user...` (self-service) and `/api/v1/users...` (admins): accounts and tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import acting_account, address, field, json_body, timestamp
from registry.api.params import non_negative_int
from registry.db.account_queries import TokenRecord, UserRecord
from registry.errors import DeniedError, InvalidRequestError


def user_json(user: UserRecord) -> dict[str, Any]:
    return {"name": user.name, "is_admin": user.is_admin, "created": timestamp(user.created_at)}


def token_json(token: TokenRecord) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "scopes": sorted(token.scopes),
        "created": timestamp(token.created_at),
        "last_used": timestamp(token.last_used_at),
        "revoked": timestamp(token.revoked_at),
        "expires": timestamp(token.expires_at),
    }


async def me(request: web.Request) -> web.Response:
    principal = acting_account(request)
    user = await request.app[keys.ACCOUNTS].user(principal.name)
    body = user_json(user)
    body["token_scopes"] = sorted(principal.scopes) if principal.scopes is not None else None
    return web.json_response(body)


async def change_own_password(request: web.Request) -> web.Response:
    principal = acting_account(request)
    body = await json_body(request)
    password = field(body, "password", str)
    # A stolen session or token must not be enough to take the account over.
    current = field(body, "current_password", str)
    if not await request.app[keys.AUTH].authenticator.password_matches(principal, current):
        raise DeniedError("the current password is wrong")
    await request.app[keys.ACCOUNTS].set_password(
        principal.name, password, actor=principal.name, address=address(request)
    )
    return web.Response(status=204)


async def list_own_tokens(request: web.Request) -> web.Response:
    principal = acting_account(request)
    tokens = await request.app[keys.ACCOUNTS].tokens(principal.name)
    return web.json_response({"tokens": [token_json(t) for t in tokens]})


async def create_own_token(request: web.Request) -> web.Response:
    principal = acting_account(request)
    body = await json_body(request)
    scopes = field(body, "scopes", list)
    if not all(isinstance(scope, str) for scope in scopes):
        raise InvalidRequestError("'scopes' must be a list of strings")
    seconds = field(body, "expires_in", int, required=False)  # None: until revoked
    if seconds is not None and seconds <= 0:
        raise InvalidRequestError("'expires_in' is a positive number of seconds")
    record, secret = await request.app[keys.ACCOUNTS].create_token(
        principal.name,
        field(body, "name", str),
        scopes,
        expires_at=None if seconds is None else datetime.now(UTC) + timedelta(seconds=seconds),
        actor=principal.name,
        address=address(request),
    )
    # The secret is in this answer only; the hub keeps its digest.
    return web.json_response({**token_json(record), "token": secret}, status=201)


async def revoke_own_token(request: web.Request) -> web.Response:
    principal = acting_account(request)
    token_id = _token_id(request)
    await request.app[keys.ACCOUNTS].revoke_token(
        principal.name, token_id, actor=principal.name, address=address(request)
    )
    request.app[keys.AUTH].revocations.revoked(token_id)
    return web.Response(status=204)


def _token_id(request: web.Request) -> int:
    token_id = non_negative_int(request.match_info["token_id"])
    if token_id is None:
        raise InvalidRequestError("token ids are non-negative 64-bit integers")
    return token_id


async def list_users(request: web.Request) -> web.Response:
    acting_account(request)
    users = await request.app[keys.ACCOUNTS].users()
    return web.json_response({"users": [user_json(u) for u in users]})


async def create_user(request: web.Request) -> web.Response:
    admin = acting_account(request)
    body = await json_body(request)
    user = await request.app[keys.ACCOUNTS].add_user(
        field(body, "name", str),
        field(body, "password", str),
        is_admin=bool(field(body, "is_admin", bool, required=False)),
        actor=admin.name,
        address=address(request),
    )
    return web.json_response(user_json(user), status=201)


async def delete_user(request: web.Request) -> web.Response:
    admin = acting_account(request)
    await request.app[keys.ACCOUNTS].remove_user(
        request.match_info["user"], actor=admin.name, address=address(request)
    )
    # Its tokens die with it, here at once (other hub processes within a second).
    request.app[keys.AUTH].revocations.account_removed()
    return web.Response(status=204)


async def set_user_password(request: web.Request) -> web.Response:
    admin = acting_account(request)
    password = field(await json_body(request), "password", str)
    await request.app[keys.ACCOUNTS].set_password(
        request.match_info["user"], password, actor=admin.name, address=address(request)
    )
    return web.Response(status=204)
