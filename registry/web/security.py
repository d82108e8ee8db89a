"""Security of every web page in one place: sessions, CSRF, who may call a route, headers.

For requests to web routes (`registry.web.routes`), before the view runs:

1. The session cookie becomes the caller (`SessionStore`), and the request's identity for the
   Hub's grants is set from it, so `require_actions` sees the signed-in user. Credentials in an
   `Authorization` header count for nothing here: a page is not an API.
2. Unsafe methods need the CSRF token: a random value kept in an `HttpOnly`, `SameSite=Strict`
   cookie, which every form repeats in a hidden field (compared in constant time); a foreign
   `Origin` is refused too. A new token comes with every sign-in and sign-out.
3. The route's `Audience` is enforced; a repository the caller may not pull answers the same
   404 page as one that does not exist.

Every answer carries a content security policy without inline script or outside origins.
Domain errors become HTML error pages here, before the API's JSON error middleware sees them.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from urllib.parse import quote

from aiohttp import web
from aiohttp.typedefs import Handler

from registry import keys
from registry.api.hub.common import require_actions
from registry.auth.controller import IDENTITY, NOBODY, Identity
from registry.auth.rules import Credential
from registry.errors import DeniedError, RegistryError, UnauthorizedError
from registry.oci.errorcodes import ERROR_CODES
from registry.web.cookies import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, csrf_cookie
from registry.web.render import CSRF, REPOSITORY, USER, render
from registry.web.routes import ROUTE_BY_NAME, STATIC_ROUTE, Audience, WebRoute
from registry.web.views.common import repository_from_path

logger = logging.getLogger(__name__)

__all__ = ["CONTENT_SECURITY_POLICY", "web_middleware"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class CsrfError(RegistryError):
    """A form arrived without this browser's CSRF token, or from another origin."""

    code = "DENIED"


def _web_route(request: web.Request) -> tuple[str | None, WebRoute | None]:
    resource = request.match_info.route.resource
    name = resource.name if resource is not None else None
    return name, ROUTE_BY_NAME.get(name or "")


async def _sign_in_state(request: web.Request) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    principal = await request.app[keys.WEB_SESSIONS].principal(cookie) if cookie else None
    if principal is not None:
        request[USER] = principal
    # The grants read the caller from here; a page never uses the Authorization header.
    # A session was opened with the account's password, and acts as the account.
    request[IDENTITY] = (
        Identity(Credential.PASSWORD, principal.name, principal=principal)
        if principal
        else NOBODY
    )


async def _check_csrf(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        raise CsrfError("this form came from another site")
    form = await request.post()
    sent, expected = form.get(CSRF_FIELD), request.cookies.get(CSRF_COOKIE)
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfError("the form has expired or came from another site; reload and retry")


def _sign_in_location(request: web.Request) -> str:
    """The sign-in page, returning to this page afterwards."""
    return f"/login?next={quote(request.path_qs, safe='')}"


async def _authorise(request: web.Request, route: WebRoute) -> None:
    if route.audience is Audience.ANYONE:
        return
    if route.audience in (Audience.SIGNED_IN, Audience.ORG_MANAGER, Audience.ADMIN):
        user = request.get(USER)
        if user is None:
            raise web.HTTPSeeOther(_sign_in_location(request))
        if route.audience is Audience.ADMIN and not user.acts_as_admin:
            raise DeniedError("admins only")
        if route.audience is Audience.ORG_MANAGER and not await request.app[
            keys.ACCOUNTS
        ].may_manage(user, request.match_info["org"]):
            raise DeniedError("only the organization's owners may do that")
        return
    name = repository_from_path(request)
    # Pull first, then existence, then the rest: a private repository and a missing one give
    # whoever may not pull them the same answer, whatever else the route needs.
    await require_actions(request, name, {"pull"})
    await request.app[keys.REPOSITORIES].get(name)
    await require_actions(request, name, set(route.audience.repository_actions))
    request[REPOSITORY] = name


def _error_page(request: web.Request, exc: RegistryError) -> web.Response:
    status = ERROR_CODES[exc.code].status
    # A 404 never says what was missing: the same page for private and absent repositories.
    message = "" if status == 404 else (exc.message or ERROR_CODES[exc.code].message)
    return render(request, "errors/error.html", {"status": status, "message": message},
                  status=status)


@web.middleware
async def web_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    name, route = _web_route(request)
    if route is None and name != STATIC_ROUTE:
        return await handler(request)
    new_csrf = None
    request[CSRF] = request.cookies.get(CSRF_COOKIE) or ""
    if not request[CSRF]:
        new_csrf = request[CSRF] = secrets.token_urlsafe(32)
    try:
        if route is None:
            response = await handler(request)
        else:
            await _sign_in_state(request)
            if request.method not in _SAFE_METHODS:
                await _check_csrf(request)
            await _authorise(request, route)
            response = await handler(request)
            response.headers.setdefault("Cache-Control", "no-store")
    except UnauthorizedError as exc:
        if request.method in _SAFE_METHODS:
            response = web.Response(status=303, headers={"Location": _sign_in_location(request)})
        else:
            response = _error_page(request, exc)
    except RegistryError as exc:
        response = _error_page(request, exc)
    except web.HTTPException as exc:
        exc.headers.update(_HEADERS)
        raise
    response.headers.update(_HEADERS)
    if new_csrf is not None and CSRF_COOKIE not in response.cookies:
        csrf_cookie(response, request, new_csrf)
    return response
