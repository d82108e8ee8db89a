"""`/api/v1/repositories...`: list, get, update, delete repositories; tags; stars."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import (
    address,
    caller,
    field,
    json_body,
    repository_json,
    repository_name,
    require_actions,
    require_user,
    timestamp,
)
from registry.api.hub.paging import page, page_json
from registry.auth.scopes import LIBRARY
from registry.db.hub_queries import Visibility


async def visibility_for(request: web.Request) -> Visibility:
    """What the caller may see besides public repositories."""
    return await request.app[keys.AUTH].grants.visibility(await caller(request))


async def list_repositories(request: web.Request) -> web.Response:
    wanted = page(request)
    namespace = request.query.get("namespace") or None
    total, infos = await request.app[keys.REPOSITORIES].search(
        await visibility_for(request),
        namespace=namespace,
        limit=wanted.size,
        offset=wanted.offset,
    )
    return web.json_response(page_json(wanted, total, infos))


async def get_repository(request: web.Request) -> web.Response:
    name = repository_name(request)
    await require_actions(request, name, {"pull"})
    info = await request.app[keys.REPOSITORIES].get(name)
    return web.json_response(await _with_trust(request, repository_json(info)))


async def _with_trust(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
    """Add the content-trust setting: effective `trust_required` and `on|off|inherit`, and the
    signature policy in force (its version and whose it is: `own`, `namespace` or `none`)."""
    setting = await request.app[keys.REPOSITORIES].trust_setting(body["name"])
    policy = await request.app[keys.SIGNATURE_POLICIES].show(body["name"])
    return {
        **body,
        "trust_required": setting.required,
        "trust_required_setting": setting.label,
        "signature_policy": policy.version,
        "signature_policy_setting": policy.label,
    }


async def update_repository(request: web.Request) -> web.Response:
    name = repository_name(request)
    body = await json_body(request)
    description = field(body, "description", str, required=False)
    is_public = field(body, "is_public", bool, required=False)
    # `trust_required`: true, false, or null to follow the namespace's setting.
    sets_trust = "trust_required" in body
    trust_required = field(body, "trust_required", bool, required=False)
    # `signature_policy`: a policy document (trust.sigs.policy), or null to follow the namespace.
    sets_policy = "signature_policy" in body
    # Describing needs push; changing who may see it or pull it needs the owner's "*".
    owner_only = is_public is not None or sets_trust or sets_policy
    principal = await require_actions(request, name, {"*"} if owner_only else {"push"})
    actor = principal.name if principal else "-"
    if sets_policy:
        await request.app[keys.SIGNATURE_POLICIES].set_repository(
            name, body["signature_policy"], actor=actor, address=address(request)
        )
    if sets_trust:
        await request.app[keys.REPOSITORIES].set_trust_required(
            name, trust_required, actor=actor, address=address(request)
        )
    info = await request.app[keys.REPOSITORIES].update(
        name,
        description=description,
        is_public=is_public,
        actor=actor,
        address=address(request),
    )
    return web.json_response(await _with_trust(request, repository_json(info)))


async def delete_repository(request: web.Request) -> web.Response:
    name = repository_name(request)
    principal = await require_actions(request, name, {"delete"})
    await request.app[keys.REPOSITORIES].delete(
        name, actor=principal.name if principal else "-", address=address(request)
    )
    return web.Response(status=204)


async def list_tags(request: web.Request) -> web.Response:
    name = repository_name(request)
    await require_actions(request, name, {"pull"})
    tags = await request.app[keys.REPOSITORIES].tags(name)
    return web.json_response(
        {
            "name": name,
            "tags": [
                {
                    "name": tag.name,
                    "digest": tag.digest,
                    "media_type": tag.media_type,
                    "size": tag.size,
                    "architectures": list(tag.architectures),
                    "architecture": _architecture(tag.architectures),
                    "pushed": timestamp(tag.pushed_at),
                }
                for tag in tags
            ],
        }
    )


def _architecture(platforms: tuple[str, ...]) -> str | None:
    if len(platforms) == 1:
        return platforms[0].split("/")[1]
    return "multi" if platforms else None


async def star(request: web.Request) -> web.Response:
    return await _star(request, True)


async def unstar(request: web.Request) -> web.Response:
    return await _star(request, False)


async def _star(request: web.Request, starred: bool) -> web.Response:
    name = repository_name(request)
    principal = await require_user(request)
    await require_actions(request, name, {"pull"})
    await request.app[keys.REPOSITORIES].star(principal.user_id, name, starred)
    return web.Response(status=204)


def display_name(name: str) -> str:
    """Official images are shown without `library/`, as Docker Hub does."""
    return name.removeprefix(f"{LIBRARY}/")
