"""The token endpoint `/token`: Docker's token-auth flows and the OAuth2 password/refresh grants.

- `GET /token?service=&scope=...[&offline_token=true]` with optional basic auth (what the
  Docker CLI and daemon send; no credentials: an anonymous token, for public pulls).
- `POST /token` form `grant_type=password` (`username`, `password`, `access_type=offline`) or
  `grant_type=refresh_token` (`refresh_token`), with `service` and space-separated `scope`.

The token's `access` claim holds only the actions the caller holds. A bearer header is not a
credential here: an access token never mints another one. With `offline_token=true`
(Docker's login does that) or `access_type=offline`, the answer also carries a refresh token
that Docker keeps as its "identity token" instead of the password.

A robot account (`robot$<org>+<name>` and its secret) gets the intersection of the scopes it
asks for and its own scope, in a token bound to the robot; it never gets a refresh token
(clients keep its secret), so a revoked or expired robot cannot trade one in.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.http import HttpProcessingError

from registry import keys
from registry.auth.access import Access
from registry.auth.authenticator import binding
from registry.auth.controller import parse_basic
from registry.auth.policy import Principal
from registry.auth.robots import Robot
from registry.auth.scopes import parse_scope
from registry.auth.tokens import UserBinding
from registry.errors import InvalidRequestError, UnauthorizedError
from registry.hub.names import repository_of_scope, robot_owner

logger = logging.getLogger(__name__)

__all__ = ["token_get", "token_post"]

_MAX_SCOPES = 16


def _scopes(values: list[str]) -> list[Access]:
    wanted = []
    for value in values:
        for text in value.split():
            access = parse_scope(text)
            if access is not None:
                wanted.append(access)
    return wanted[:_MAX_SCOPES]


def _check_service(request: web.Request, service: str) -> None:
    """A token names its audience: never mint one for a service this hub is not.

    Raises:
        InvalidRequestError: `service` names another service (absent: this hub's).
    """
    ours = request.app[keys.SETTINGS].auth_service
    if service and service != ours:
        raise InvalidRequestError(
            f"this token server issues tokens for service {ours!r} only", service=service
        )


async def _login(request: web.Request, username: str, secret: str) -> Principal | Robot:
    """The account or robot behind a user name and a password, access token or robot secret.

    Raises:
        UnauthorizedError, TooManyRequestsError: as the authenticator's logins.
    """
    authenticator = request.app[keys.AUTH].authenticator
    address = request.remote or ""
    if robot_owner(username) is not None:
        return await authenticator.robot_login(username, secret, address, record=True)
    return await authenticator.login(username, secret, address, record=True)


async def _answer(
    request: web.Request, principal: Principal | Robot | None, wanted: list[Access], offline: bool
) -> web.Response:
    auth, settings = request.app[keys.AUTH], request.app[keys.SETTINGS]
    granted = []
    for access in wanted:
        resource = access
        if access.type == "repository":
            # A path or a Notary GUN; the grant is computed on the repository it names, and
            # the registry resolves the token's entry the same way (`_same_resource`).
            repository = repository_of_scope(access.name)
            if repository is None:
                continue
            resource = Access(access.type, repository, access.actions)
        actions = await auth.grants.actions(principal, resource)
        if actions:
            granted.append(Access(access.type, access.name, actions))
    now = int(time.time())
    issuer = request.app[keys.TOKEN_ISSUER]
    ttl = settings.token_ttl_seconds
    if isinstance(principal, Robot):
        ttl = max(1, min(ttl, principal.expires_at - now))  # never outlives the robot
        token = issuer.access_token(
            principal.login,
            granted,
            now=now,
            ttl=ttl,
            robot=UserBinding(principal.robot_id, principal.stamp),
        )
    else:
        token = issuer.access_token(
            principal.name if principal else "",
            granted,
            now=now,
            ttl=ttl,
            token_id=principal.token_id if principal else None,
            user=binding(principal) if principal else None,
        )
    body: dict[str, object] = {
        "token": token,
        "access_token": token,
        "expires_in": ttl,
        "issued_at": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
        "scope": " ".join(f"{a.type}:{a.name}:{','.join(sorted(a.actions))}" for a in granted),
    }
    if offline and isinstance(principal, Principal):
        body["refresh_token"] = issuer.refresh_token(
            principal.name,
            now=now,
            ttl=settings.refresh_ttl_seconds,
            token_id=principal.token_id,
            fingerprint=await auth.authenticator.fingerprint(principal),
            user=binding(principal),
        )
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def token_get(request: web.Request) -> web.Response:
    _check_service(request, request.query.get("service", ""))
    principal: Principal | Robot | None = None
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            username, secret = parse_basic(value)
        except ValueError as exc:
            raise UnauthorizedError(str(exc)) from exc
        principal = await _login(request, username, secret)
    offline = request.query.get("offline_token", "").lower() == "true"
    return await _answer(request, principal, _scopes(request.query.getall("scope", [])), offline)


async def token_post(request: web.Request) -> web.Response:
    auth = request.app[keys.AUTH]
    try:
        form = await request.post()
    except (AssertionError, ValueError, HttpProcessingError) as exc:
        # aiohttp's words for a body that is not the form its Content-Type announces.
        raise InvalidRequestError("the request body is not a valid form") from exc
    _check_service(request, str(form.get("service", "")))
    grant_type = str(form.get("grant_type", ""))
    wanted = _scopes([str(form.get("scope", ""))])
    if grant_type == "password":
        principal = await _login(
            request, str(form.get("username", "")), str(form.get("password", ""))
        )
        return await _answer(request, principal, wanted, form.get("access_type") == "offline")
    if grant_type == "refresh_token":
        principal = await auth.authenticator.refresh(
            auth.verifier, str(form.get("refresh_token", "")), int(time.time())
        )
        return await _answer(request, principal, wanted, offline=False)
    raise InvalidRequestError("grant_type must be password or refresh_token", grant_type=grant_type)
