"""The one place that enforces every route's declared `Rule` before its handler runs.

`authorization_middleware` looks the matched route's rule up by route name and checks the
request's credentials against it; `check_every_route_has_a_rule` makes `create_app` fail when
a route was added without one. Handlers that act on the caller's account read it with
`registry.api.hub.common.acting_account` (set here); those that need more than the rule
(changing a repository's visibility needs `*`) ask the access controller again.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from registry import keys
from registry.api.hub.common import ACCOUNT, repository_name
from registry.auth.access import Access
from registry.auth.controller import BASIC_CHALLENGE
from registry.auth.policy import Principal
from registry.auth.rules import Credential, Resource, Rule
from registry.auth.trust import check as trust_check
from registry.errors import DeniedError, NotFoundError, UnauthorizedError
from registry.oci.reference import is_valid_name

logger = logging.getLogger(__name__)

__all__ = [
    "RULES",
    "MissingRuleError",
    "authorization_middleware",
    "check_every_route_has_a_rule",
    "enforce_route_rule",
]

RULES = web.AppKey("route_rules", dict[str, Rule])


class MissingRuleError(RuntimeError):
    """A route has no authorisation rule (a programming error: the app does not start)."""


def check_every_route_has_a_rule(app: web.Application) -> None:
    """Refuse to build an app with a route that has no name or no declared rule.

    Raises:
        MissingRuleError: naming the route.
    """
    rules = app[RULES]
    for route in app.router.routes():
        name = route.name
        if not name or name not in rules:
            raise MissingRuleError(f"route {route.method} {route.resource} has no rule")


@web.middleware
async def authorization_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    await enforce_route_rule(request)
    return await handler(request)


async def enforce_route_rule(request: web.Request) -> None:
    """Check the request against its matched route's rule (no route matched: nothing to check,
    the 404/405 is answered without reading credentials).

    Raises:
        MissingRuleError: the route has no rule.
        RegistryError: the caller may not do this (401, 403, 404, 429).
    """
    route = request.match_info.route.name
    if route is None:
        return
    rule = request.app[RULES].get(route)
    if rule is None:
        raise MissingRuleError(f"route {route} has no rule")
    await _enforce(request, rule)


async def _enforce(request: web.Request, rule: Rule) -> None:
    if rule.resource in (Resource.OPEN, Resource.TOKEN, Resource.WEB):
        # The token endpoint authenticates by itself; pages, by their session
        # (`registry.web.security`, the next middleware, checks their audience).
        return
    app = request.app
    auth, access = app[keys.AUTH], app[keys.ACCESS]
    auth_enabled = app[keys.SETTINGS].auth_enabled
    if rule.resource is Resource.REGISTRY:
        await access.authorize(request, [])
    elif rule.resource is Resource.CATALOG:
        await access.authorize(request, [Access("registry", "catalog", frozenset({"*"}))])
    elif rule.resource is Resource.LISTING:
        await auth.identify(request)  # bad credentials are refused, not taken as anonymous
    elif rule.resource is Resource.REPOSITORY:
        await _repository(request, rule, auth_enabled)
    else:
        request[ACCOUNT] = await _account(request, rule)


async def _repository(request: web.Request, rule: Rule, auth_enabled: bool) -> None:
    actions = frozenset({"pull", "push"} if rule.action == "push" else {rule.action})
    app = request.app
    if not rule.hidden:  # registry and trust routes: Docker's token flow
        if "gun" in request.match_info:  # a trust route: the hub's check maps the GUN
            await trust_check(request, request.match_info["gun"], actions)
            return
        name = request.match_info.get("name", "")
        if not is_valid_name(name):
            return  # the handler answers NAME_INVALID before touching anything
        await app[keys.ACCESS].authorize(request, [Access("repository", name, actions)])
        return
    name = repository_name(request)
    if Credential.BEARER not in rule.credentials:  # an account action on a repository (stars)
        principal = await _account(request, rule)
        request[ACCOUNT] = principal
        held = await app[keys.AUTH].grants.actions(principal, Access("repository", name, actions))
        if not auth_enabled or actions <= held:
            return
        raise NotFoundError(f"no repository {name!r}", name=name)
    if auth_enabled:
        await app[keys.AUTH].repository_actions(request, name, actions)


async def _account(request: web.Request, rule: Rule) -> Principal:
    auth = request.app[keys.AUTH]
    identity = await auth.identify(request)
    principal = identity.account
    if principal is None or identity.kind not in rule.credentials:
        what = {
            Credential.ANONYMOUS: "anonymous callers",
            Credential.ROBOT: "a robot account",
        }.get(identity.kind, "a bearer token")
        exc = UnauthorizedError(
            f"log in with a password or a personal access token ({what} may not do this)"
        )
        exc.headers = dict(BASIC_CHALLENGE)  # type: ignore[attr-defined]
        raise exc
    if rule.token_scope is not None and not principal.may_use_scope(rule.token_scope):
        raise DeniedError(f"this access token lacks the {rule.token_scope!r} scope")
    if rule.resource is Resource.HUB and not principal.acts_as_admin:
        raise DeniedError("admins only")
    if rule.resource is Resource.ORGANIZATION:
        org = request.match_info["org"]
        if not await request.app[keys.ACCOUNTS].may_manage(principal, org):
            raise DeniedError(f"only owners of {org!r} may do that")
    if rule.resource is Resource.NAMESPACE:
        namespace = request.match_info["namespace"]
        if namespace != principal.name and not await _may_manage(request, principal, namespace):
            raise DeniedError(f"you may not change {namespace!r}")
    return principal


async def _may_manage(request: web.Request, principal: Principal, namespace: str) -> bool:
    if principal.acts_as_admin:
        return True
    try:
        return await request.app[keys.ACCOUNTS].may_manage(principal, namespace)
    except NotFoundError:
        return False
