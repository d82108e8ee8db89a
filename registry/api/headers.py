"""Headers every response of the hub carries, set in one place (`on_response_prepare`).

- `Docker-Distribution-API-Version`: Distribution sends it on every response, and clients
  look for it to recognise a registry.
- `X-Content-Type-Options: nosniff` and a `Content-Security-Policy` of `default-src 'none'`
  (unless a handler set its own): a browser never renders a pushed blob or manifest as a page
  or runs its scripts.
- `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`: no answer of the hub can be framed.
- `Referrer-Policy: no-referrer` (unless a handler set its own): URLs name private
  repositories. Web pages say `same-origin`: a browser sends `Origin: null` with forms from
  a `no-referrer` page, and the pages' CSRF check compares the origin.
- `Server`: the product, not the stack and its version (aiohttp names itself and Python).
"""

from __future__ import annotations

from aiohttp import web

__all__ = ["API_VERSION", "set_common_headers"]

API_VERSION = "registry/2.0"

_ALWAYS = {
    "Docker-Distribution-API-Version": API_VERSION,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Server": "berth",
}
_DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"


async def set_common_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The `on_response_prepare` hook: runs for every response, errors included."""
    response.headers.update(_ALWAYS)
    response.headers.setdefault("Content-Security-Policy", _DEFAULT_CSP)
    response.headers.setdefault("Referrer-Policy", "no-referrer")
