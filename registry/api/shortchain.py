"""The short middleware chain of the hottest read routes: trust metadata GETs.

Every client of a signed repository fetches `timestamp.json` first, and then documents by
hash; these requests need only part of the hub's chain (`registry.app`). This middleware, the
first of the chain, runs them through exactly that part and then their handler:

    access log and metrics -> errors as JSON -> the route's authorisation rule -> handler

The middlewares it leaves out have nothing to do for these routes: the Hub's hooks act on
registry paths (`{name}`, not a GUN) and trust publishes, the pull-through cache and mirror on
registry paths, and the web middleware on pages. The rule is the route's own, enforced by the
same code as the authorisation middleware's (`enforce_route_rule`).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from registry.api.authorization import enforce_route_rule
from registry.api.middleware import error_middleware, log_middleware

__all__ = ["SHORT_CHAIN_ROUTES", "short_chain_middleware"]

SHORT_CHAIN_ROUTES = frozenset({"trust-get"})


@web.middleware
async def short_chain_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.route.name not in SHORT_CHAIN_ROUTES:
        return await handler(request)
    return await log_middleware(request, _errors)


async def _errors(request: web.Request) -> web.StreamResponse:
    return await error_middleware(request, _authorised)


async def _authorised(request: web.Request) -> web.StreamResponse:
    await enforce_route_rule(request)
    return await request.match_info.handler(request)
