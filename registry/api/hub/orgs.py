"""`/api/v1/orgs...` and `/api/v1/namespaces/...`: organizations, teams, members and grants.

Reading an organization shows as much as the caller's place in it allows, as on Docker Hub:
anyone (anonymous included) sees its name; its members also see its default visibility, its
teams and their members; its owners and admins also see each team's grants, which name its
repositories, private ones included.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import acting_account, address, field, json_body
from registry.errors import InvalidRequestError
from registry.hub.accounts import Organization


def org_json(org: Organization, *, members: bool = True, grants: bool = True) -> dict[str, Any]:
    """The organization as JSON: its name, then its teams and members, then their grants."""
    body: dict[str, Any] = {"name": org.name}
    if not members:
        return body
    teams = []
    for team in org.teams:
        shown: dict[str, Any] = {"name": team.name, "members": list(team.members)}
        if grants:
            shown["grants"] = [
                {"repository": repo or None, "role": role} for repo, role in team.grants
            ]
        teams.append(shown)
    return {**body, "default_public": org.default_public, "teams": teams}


async def create_org(request: web.Request) -> web.Response:
    principal = acting_account(request)
    name = field(await json_body(request), "name", str)
    org = await request.app[keys.ACCOUNTS].create_org(
        name, principal.name, actor=principal.name, address=address(request)
    )
    return web.json_response(org_json(org), status=201)


async def list_orgs(request: web.Request) -> web.Response:
    orgs = await request.app[keys.ACCOUNTS].orgs()
    return web.json_response({"orgs": [{"name": o.name} for o in orgs]})


async def get_org(request: web.Request) -> web.Response:
    # Anyone sees the name; members also its teams and members; its managers (owners with
    # a password or an `admin` token, hub admins) also the grants, which name repositories.
    principal = (await request.app[keys.AUTH].identify(request)).account
    accounts = request.app[keys.ACCOUNTS]
    org = await accounts.org(request.match_info["org"])
    if principal is not None and await accounts.may_manage(principal, org.name):
        return web.json_response(org_json(org))
    member = principal is not None and any(principal.name in t.members for t in org.teams)
    return web.json_response(org_json(org, members=member, grants=False))


async def delete_org(request: web.Request) -> web.Response:
    org = request.match_info["org"]
    principal = acting_account(request)
    await request.app[keys.ACCOUNTS].remove_org(org, actor=principal.name, address=address(request))
    return web.Response(status=204)


async def _managed_team(request: web.Request) -> tuple[str, str, dict[str, str]]:
    """The path's organization and team, and the `actor` and `address` that change them.

    The route's rule admitted only the organization's managers.
    """
    org, team = request.match_info["org"], request.match_info["team"]
    principal = acting_account(request)
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
    principal = acting_account(request)  # its user, its organization's owners, admins
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
