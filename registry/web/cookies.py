"""The web interface's two cookies: the session and the CSRF token.

Both are `HttpOnly` (no script reads them) and `Secure` when the hub serves https. The
session is `SameSite=Lax`, so a link from elsewhere arrives signed in but no other site's form
carries it; the CSRF cookie is `SameSite=Strict`.
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["CSRF_COOKIE", "CSRF_FIELD", "SESSION_COOKIE", "csrf_cookie", "session_cookie"]

SESSION_COOKIE = "berth_session"
CSRF_COOKIE = "berth_csrf"
CSRF_FIELD = "csrf_token"  # the hidden form field repeating the CSRF cookie


def session_cookie(response: web.StreamResponse, request: web.Request, value: str) -> None:
    """Set the session cookie on a response."""
    response.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite="Lax", secure=request.secure, path="/"
    )


def csrf_cookie(response: web.StreamResponse, request: web.Request, value: str) -> None:
    """Set the CSRF cookie on a response."""
    response.set_cookie(
        CSRF_COOKIE, value, httponly=True, samesite="Strict", secure=request.secure, path="/"
    )
