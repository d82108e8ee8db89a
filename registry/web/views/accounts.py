"""Signing in and out, and the signed-in user's pages: repositories, stars, access tokens.

Sign-in goes through the `Authenticator` the token endpoint uses, so failed attempts are
throttled and audited exactly alike. Only passwords open a session: an access token is for
clients, and a session made from one would outlive its revocation.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from aiohttp import web

from registry import keys
from registry.api.hub.common import visibility
from registry.auth.policy import TOKEN_SCOPES
from registry.errors import (
    InvalidRequestError,
    NotFoundError,
    TooManyRequestsError,
    UnauthorizedError,
)
from registry.web.cookies import CSRF_COOKIE, SESSION_COOKIE, csrf_cookie, session_cookie
from registry.web.render import render
from registry.web.views.common import address, display_name, signed_in

logger = logging.getLogger(__name__)


def _next(value: object) -> str:
    """Where to go after signing in: a path on this hub only (no open redirect)."""
    if not isinstance(value, str):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def _new_csrf(response: web.StreamResponse, request: web.Request) -> None:
    csrf_cookie(response, request, secrets.token_urlsafe(32))


async def login_form(request: web.Request) -> web.Response:
    return render(
        request, "accounts/login.html", {"next": _next(request.query.get("next")), "error": ""}
    )


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = form.get("username"), form.get("password")
    target = _next(form.get("next"))
    error, status = "", 401
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        error = "Enter your user name and password."
    else:
        authenticator = request.app[keys.AUTH].authenticator
        try:
            principal = await authenticator.login(username, password, address(request), record=True)
        except UnauthorizedError:
            error = "Incorrect user name or password."
        except TooManyRequestsError:
            error, status = "Too many failed sign-ins; wait a few minutes and retry.", 429
        else:
            if principal.token_id is None:
                sessions = request.app[keys.WEB_SESSIONS]
                previous = request.cookies.get(SESSION_COOKIE)
                if previous:
                    await sessions.end(previous)  # a new sign-in never reuses a session
                cookie = await sessions.start(principal)
                response = web.HTTPSeeOther(target)
                session_cookie(response, request, cookie)
                _new_csrf(response, request)
                raise response
            error = "Sign in with your password; access tokens are for clients."
    context = {"next": target, "error": error, "username": username or ""}
    return render(request, "accounts/login.html", context, status=status)


async def logout(request: web.Request) -> web.Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await request.app[keys.WEB_SESSIONS].end(cookie)
    response = web.HTTPSeeOther("/")
    response.del_cookie(SESSION_COOKIE, path="/")
    if request.cookies.get(CSRF_COOKIE):
        _new_csrf(response, request)
    raise response


async def my_repositories(request: web.Request) -> web.Response:
    user = signed_in(request)
    _, infos = await request.app[keys.REPOSITORIES].search(
        await visibility(request), namespace=user.name, limit=1000, offset=0
    )
    return render(
        request,
        "accounts/repositories.html",
        {"title": "My repositories", "results": [(i, display_name(i.name)) for i in infos]},
    )


async def my_stars(request: web.Request) -> web.Response:
    user = signed_in(request)
    starred = await request.app[keys.REPOSITORIES].starred(user.user_id)
    # A star outlives access to a private repository: show only what the user may still see.
    visibility = await request.app[keys.AUTH].grants.visibility(user)
    shown = [(i, display_name(i.name)) for i in starred if visibility.shows(i.name, i.is_public)]
    return render(request, "accounts/repositories.html", {"title": "Stars", "results": shown})


async def _tokens_page(
    request: web.Request, *, secret: str = "", created: str = "", status: int = 200
) -> web.Response:
    tokens = await request.app[keys.ACCOUNTS].tokens(signed_in(request).name)
    return render(
        request,
        "accounts/tokens.html",
        {
            "tokens": tokens,
            "scopes": TOKEN_SCOPES,
            "secret": secret,
            "created": created,
            "now": datetime.now(UTC),
            "expiry_days": (7, 30, 90, 365),
        },
        status=status,
    )


async def tokens(request: web.Request) -> web.Response:
    return await _tokens_page(request)


async def create_token(request: web.Request) -> web.Response:
    user = signed_in(request)
    form = await request.post()
    name = form.get("name")
    scopes = [scope for scope in form.getall("scopes", []) if isinstance(scope, str)]
    days = form.get("expires_days", "")
    if not isinstance(days, str) or (days and not days.isdigit()):
        raise InvalidRequestError("the expiry is a number of days")
    record, secret = await request.app[keys.ACCOUNTS].create_token(
        user.name,
        name if isinstance(name, str) else "",
        scopes,
        expires_at=datetime.now(UTC) + timedelta(days=int(days)) if days else None,
        actor=user.name,
        address=address(request),
    )
    # The secret is on this page only; the hub keeps its digest.
    return await _tokens_page(request, secret=secret, created=record.name, status=201)


async def revoke_token(request: web.Request) -> web.Response:
    user = signed_in(request)
    token_id = int(request.match_info["token_id"])
    try:
        await request.app[keys.ACCOUNTS].revoke_token(
            user.name, token_id, actor=user.name, address=address(request)
        )
    except NotFoundError:
        pass  # revoked already, or not this user's: the list shows what there is
    else:
        request.app[keys.AUTH].revocations.revoked(token_id)
    raise web.HTTPSeeOther("/account/tokens")
