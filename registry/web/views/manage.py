"""Repository settings: short description and README, visibility, content trust required,
deleting a tag or the repository.

Every destructive action has a confirmation page (readable without script) and a form posted
from it. The route table has checked the actions each needs: `push` to describe, the owner's
`*` to change visibility or the content-trust requirement (as the Hub API), `delete` to delete.
"""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.handlers.common import cause, request_origin
from registry.errors import InvalidRequestError, NotFoundError
from registry.web.render import REPOSITORY, render
from registry.web.views.common import actor, address, display_name, holds


def _tag(request: web.Request) -> str:
    reference = request.match_info["reference"]
    if ":" in reference:
        raise NotFoundError("no such tag")  # tags only; digests are deleted with the registry API
    return reference


async def settings(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    info = await request.app[keys.REPOSITORIES].get(name)
    may_own = await holds(request, name, {"*"})
    trust = await request.app[keys.REPOSITORIES].trust_setting(name)
    may_delete = await holds(request, name, {"delete"})
    return render(
        request,
        "manage/settings.html",
        {"info": info, "name": name, "shown_name": display_name(name), "may_own": may_own,
         "trust": trust,
         "may_delete": may_delete},
    )


async def describe(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    form = await request.post()
    description, readme = form.get("description", ""), form.get("full_description")
    if not isinstance(description, str) or not isinstance(readme, str | None):
        raise InvalidRequestError("the description and the README are text")
    await request.app[keys.REPOSITORIES].update(
        name,
        description=description,
        full_description=readme,
        is_public=None,
        actor=actor(request),
        address=address(request),
    )
    raise web.HTTPSeeOther(f"/r/{name}")


async def set_visibility(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    visibility = (await request.post()).get("visibility")
    if visibility not in ("public", "private"):
        raise InvalidRequestError("visibility is public or private")
    await request.app[keys.REPOSITORIES].update(
        name,
        description=None,
        is_public=visibility == "public",
        actor=actor(request),
        address=address(request),
    )
    raise web.HTTPSeeOther(f"/r/{name}/-/settings")


_TRUST_CHOICES = {"on": True, "off": False, "inherit": None}


async def set_trust_required(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    choice = (await request.post()).get("trust")
    if choice not in _TRUST_CHOICES:
        raise InvalidRequestError("content trust is on, off or inherit")
    await request.app[keys.REPOSITORIES].set_trust_required(
        name, _TRUST_CHOICES[choice], actor=actor(request), address=address(request)
    )
    raise web.HTTPSeeOther(f"/r/{name}/-/settings")


async def delete_tag_form(request: web.Request) -> web.Response:
    name, tag = request[REPOSITORY], _tag(request)
    await request.app[keys.MANIFESTS].get(name, tag)  # 404 for a tag that is not there
    return render(
        request,
        "manage/confirm.html",
        {
            "title": f"Delete tag {display_name(name)}:{tag}",
            "explanation": "The tag goes; the image stays reachable by digest until "
            "nothing else refers to it and garbage collection removes it.",
            "action": f"/r/{name}/-/tags/{tag}/delete",
            "button": "Delete tag",
            "back": f"/r/{name}",
        },
    )


async def delete_tag(request: web.Request) -> web.Response:
    name, tag = request[REPOSITORY], _tag(request)
    await request.app[keys.MANIFESTS].delete(name, tag, cause(request, actor(request)))
    await request.app[keys.AUDIT].record(
        actor(request), "delete", name, address(request), reference=tag
    )
    raise web.HTTPSeeOther(f"/r/{name}")


async def delete_form(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    return render(
        request,
        "manage/confirm.html",
        {
            "title": f"Delete repository {display_name(name)}",
            "explanation": "Every tag and manifest of the repository goes, with its stars and "
            "pull count. This cannot be undone.",
            "action": f"/r/{name}/-/delete",
            "button": "Delete repository",
            "back": f"/r/{name}/-/settings",
        },
    )


async def delete(request: web.Request) -> web.Response:
    name = request[REPOSITORY]
    await request.app[keys.REPOSITORIES].delete(
        name, actor=actor(request), address=address(request), origin=request_origin(request)
    )
    raise web.HTTPSeeOther("/account/repositories")
