"""Organizations: list and create them; teams, members and repository grants of one.

The same `AccountService` calls as the Hub API's `/api/v1/orgs...`; the route table lets any
signed-in user see organizations (as the API does) and only their owners (or admins) change
teams, members and grants.
"""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.auth.policy import ROLES
from registry.errors import InvalidRequestError, NotFoundError
from registry.web.render import render
from registry.web.views.common import address, signed_in


async def _field(request: web.Request, name: str, *, required: bool = True) -> str:
    value = (await request.post()).get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidRequestError(f"give the {name}")
    return value.strip()


def _by(request: web.Request) -> dict[str, str]:
    return {"actor": signed_in(request).name, "address": address(request)}


def _back(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/orgs/{request.match_info['org']}")


async def list_orgs(request: web.Request) -> web.Response:
    orgs = await request.app[keys.ACCOUNTS].orgs()
    return render(request, "orgs/index.html", {"orgs": orgs})


async def create_org(request: web.Request) -> web.Response:
    name = await _field(request, "name")
    user = signed_in(request)
    await request.app[keys.ACCOUNTS].create_org(name, user.name, **_by(request))
    raise web.HTTPSeeOther(f"/orgs/{name}")


async def org(request: web.Request) -> web.Response:
    accounts = request.app[keys.ACCOUNTS]
    name = request.match_info["org"]
    organization = await accounts.org(name)
    return render(
        request,
        "orgs/org.html",
        {
            "org": organization,
            "may_manage": await accounts.may_manage(signed_in(request), name),
            "roles": ROLES,
        },
    )


async def add_team(request: web.Request) -> web.Response:
    team = await _field(request, "team")
    await request.app[keys.ACCOUNTS].add_team(request.match_info["org"], team, **_by(request))
    raise _back(request)


async def remove_team_form(request: web.Request) -> web.Response:
    info = request.match_info
    organization = await request.app[keys.ACCOUNTS].org(info["org"])
    if not any(team.name == info["team"] for team in organization.teams):
        raise NotFoundError(f"no team {info['team']!r} in {info['org']!r}")
    return render(
        request,
        "manage/confirm.html",
        {
            "title": f"Delete team {info['team']} of {info['org']}",
            "explanation": "Its members lose the grants the team gave them. This cannot be "
            "undone.",
            "action": f"/orgs/{info['org']}/teams/{info['team']}/delete",
            "button": "Delete team",
            "back": f"/orgs/{info['org']}",
        },
    )


async def remove_team(request: web.Request) -> web.Response:
    info = request.match_info
    await request.app[keys.ACCOUNTS].remove_team(info["org"], info["team"], **_by(request))
    raise _back(request)


async def add_member(request: web.Request) -> web.Response:
    user = await _field(request, "user")
    info = request.match_info
    await request.app[keys.ACCOUNTS].add_member(info["org"], info["team"], user, **_by(request))
    raise _back(request)


async def remove_member(request: web.Request) -> web.Response:
    info = request.match_info
    await request.app[keys.ACCOUNTS].remove_member(
        info["org"], info["team"], info["user"], **_by(request)
    )
    raise _back(request)


async def grant(request: web.Request) -> web.Response:
    role = await _field(request, "role")
    repository = await _field(request, "repository", required=False)
    info = request.match_info
    await request.app[keys.ACCOUNTS].grant(
        info["org"], info["team"], role, repository or None, **_by(request)
    )
    raise _back(request)


async def revoke(request: web.Request) -> web.Response:
    repository = await _field(request, "repository", required=False)
    info = request.match_info
    await request.app[keys.ACCOUNTS].revoke(
        info["org"], info["team"], repository or None, **_by(request)
    )
    raise _back(request)
