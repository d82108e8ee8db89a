"""`/api/v1/orgs...` and `/api/v1/namespaces/...`: organizations, teams, members and grants."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import address, field, json_body, require_scope, require_user
from registry.auth.policy import Principal
from registry.errors import DeniedError, InvalidRequestError, NotFoundError
from registry.hub.accounts import Organization


def org_json(org: Organization) -> dict[str, Any]:
    return {
        "name": org.name,
        "default_public": org.default_public,
        "teams": [
            {
                "name": team.name,
                "members": list(team.members),
                "grants": [
                    {"repository": repo or None, "role": role} for repo, role in team.grants
                ],
            }
            for team in org.teams
        ],
    }


async def _manager(request: web.Request, org: str) -> Principal:
    principal = await require_user(request)
    require_scope(principal, "admin")
    if not await request.app[keys.ACCOUNTS].may_manage(principal, org):
        raise DeniedError(f"only owners of {org!r} may do that")
    return principal


async def create_org(request: web.Request) -> web.Response:
    principal = await require_user(request)
    require_scope(principal, "admin")
    name = field(await json_body(request), "name", str)
    org = await request.app[keys.ACCOUNTS].create_org(
        name, principal.name, actor=principal.name, address=address(request)
    )
    return web.json_response(org_json(org), status=201)


async def list_orgs(request: web.Request) -> web.Response:
    await require_user(request)
    orgs = await request.app[keys.ACCOUNTS].orgs()
    return web.json_response({"orgs": [{"name": o.name} for o in orgs]})


async def get_org(request: web.Request) -> web.Response:
    await require_user(request)
    org = await request.app[keys.ACCOUNTS].org(request.match_info["org"])
    return web.json_response(org_json(org))


async def delete_org(request: web.Request) -> web.Response:
    org = request.match_info["org"]
    principal = await _manager(request, org)
    await request.app[keys.ACCOUNTS].remove_org(org, actor=principal.name, address=address(request))
    return web.Response(status=204)


async def _managed_team(request: web.Request) -> tuple[str, str, dict[str, str]]:
    """The path's organization and team, and the `actor` and `address` that change them.

    Raises:
        DeniedError: the caller does not manage the organization.
    """
    org, team = request.match_info["org"], request.match_info["team"]
    principal = await _manager(request, org)
    return org, team, {"actor": principal.name, "address": address(request)}


async def put_team(request: web.Request) -> web.Response:
    org, team, by = await _managed_team(request)
    await request.app[keys.ACCOUNTS].add_team(org, team, **by)
    return web.Response(status=201)


async def delete_team(request: web.Request) -> web.Response:
    org, team, by = await _managed_team(request)
    await request.app[keys.ACCOUNTS].remove_team(org, team, **by)
    return web.Response(status=204)


async def put_member(request: web.Request) -> web.Response:
    org, team, by = await _managed_team(request)
    await request.app[keys.ACCOUNTS].add_member(org, team, request.match_info["user"], **by)
    return web.Response(status=204)


async def delete_member(request: web.Request) -> web.Response:
    org, team, by = await _managed_team(request)
    await request.app[keys.ACCOUNTS].remove_member(org, team, request.match_info["user"], **by)
    return web.Response(status=204)


async def put_grant(request: web.Request) -> web.Response:
    org, team, by = await _managed_team(request)
    body = await json_body(request)
    await request.app[keys.ACCOUNTS].grant(
        org, team, field(body, "role", str), field(body, "repository", str, required=False), **by
    )
    return web.Response(status=204)


async def delete_grant(request: web.Request) -> web.Response:
    org, team, by = await _managed_team(request)
    repository = request.query.get("repository") or None
    await request.app[keys.ACCOUNTS].revoke(org, team, repository, **by)
    return web.Response(status=204)


async def put_namespace(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]
    principal = await require_user(request)
    require_scope(principal, "admin")
    own = namespace == principal.name
    if not own and not await _may_manage_namespace(request, principal, namespace):
        raise DeniedError(f"you may not change {namespace!r}")
    body = await json_body(request)
    public = field(body, "default_public", bool, required=False)
    trust_required = field(body, "trust_required", bool, required=False)
    # `signature_policy`: a policy document for repositories without their own, or null.
    sets_policy = "signature_policy" in body
    if public is None and trust_required is None and not sets_policy:
        raise InvalidRequestError("give default_public, trust_required and/or signature_policy")
    if sets_policy:
        await request.app[keys.SIGNATURE_POLICIES].set_namespace(
            namespace, body["signature_policy"], actor=principal.name, address=address(request)
        )
    accounts = request.app[keys.ACCOUNTS]
    if public is not None:
        await accounts.set_default_visibility(
            namespace, public, actor=principal.name, address=address(request)
        )
    if trust_required is not None:
        await accounts.set_namespace_trust(
            namespace, trust_required, actor=principal.name, address=address(request)
        )
    return web.Response(status=204)


async def _may_manage_namespace(request: web.Request, principal: Principal, name: str) -> bool:
    if principal.acts_as_admin:
        return True
    try:
        return await request.app[keys.ACCOUNTS].may_manage(principal, name)
    except NotFoundError:
        return False
