"""`.../immutable-tags`: the immutability rules of a repository or a namespace.

A repository's listing shows every rule holding it (its namespace's and its own); adding and
removing rules on a repository takes the owner's `*` on it, on a namespace its managers (the
route's rule). A rule is `{"id", "scope", "pattern", "created_by", "created_at"}`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from registry import keys
from registry.api.handlers.common import repository_name
from registry.api.hub.common import (
    acting_account,
    actor,
    address,
    field,
    json_body,
    timestamp,
)
from registry.hub.immutability import ImmutableRule

__all__ = [
    "add_namespace_rule",
    "add_repository_rule",
    "list_namespace_rules",
    "list_repository_rules",
    "remove_namespace_rule",
    "remove_repository_rule",
    "rule_json",
]


def rule_json(rule: ImmutableRule) -> dict[str, Any]:
    """The rule as the API shows it."""
    return {
        "id": rule.id,
        "scope": rule.scope,
        "pattern": rule.pattern,
        "created_by": rule.created_by,
        "created_at": timestamp(rule.created_at),
    }


def _rules(scope: str, rules: list[ImmutableRule]) -> web.Response:
    return web.json_response({"scope": scope, "rules": [rule_json(rule) for rule in rules]})


def _rule_id(request: web.Request) -> int:
    return int(request.match_info["rule_id"])  # the route admits digits only


async def list_repository_rules(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: pull (others get 404)
    return _rules(name, await request.app[keys.IMMUTABILITY].rules_over(name))


async def add_repository_rule(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: the owner's `*`
    pattern = field(await json_body(request), "pattern", str)
    rule = await request.app[keys.IMMUTABILITY].add(
        name, pattern, actor=actor(request), address=address(request)
    )
    return web.json_response(rule_json(rule), status=201)


async def remove_repository_rule(request: web.Request) -> web.Response:
    name = repository_name(request)
    await request.app[keys.IMMUTABILITY].remove(
        name, _rule_id(request), actor=actor(request), address=address(request)
    )
    return web.Response(status=204)


async def list_namespace_rules(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]  # the route's rule: its managers
    return _rules(namespace, await request.app[keys.IMMUTABILITY].rules(namespace))


async def add_namespace_rule(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]
    principal = acting_account(request)
    pattern = field(await json_body(request), "pattern", str)
    rule = await request.app[keys.IMMUTABILITY].add(
        namespace, pattern, actor=principal.name, address=address(request)
    )
    return web.json_response(rule_json(rule), status=201)


async def remove_namespace_rule(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]
    principal = acting_account(request)
    await request.app[keys.IMMUTABILITY].remove(
        namespace, _rule_id(request), actor=principal.name, address=address(request)
    )
    return web.Response(status=204)
