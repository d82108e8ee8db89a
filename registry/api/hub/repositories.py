"""`/api/v1/repositories...`: list, get, update, delete repositories; tags; stars."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from registry import keys
from registry.api.handlers.common import request_origin
from registry.api.hub.common import (
    acting_account,
    actor,
    address,
    field,
    json_body,
    repository_json,
    repository_name,
    require_actions,
    timestamp,
    visibility,
)
from registry.api.hub.paging import page, page_json
from registry.auth.scopes import LIBRARY
from registry.db.hub_queries import RepositoryInfo


async def list_repositories(request: web.Request) -> web.Response:
    wanted = page(request)
    namespace = request.query.get("namespace") or None
    total, infos = await request.app[keys.REPOSITORIES].search(
        await visibility(request),
        namespace=namespace,
        limit=wanted.size,
        offset=wanted.offset,
    )
    return web.json_response(page_json(wanted, total, infos))


async def get_repository(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: pull (others get 404)
    info = await request.app[keys.REPOSITORIES].get(name)
    return web.json_response(await _repository_document(request, info))


async def _repository_document(request: web.Request, info: RepositoryInfo) -> dict[str, Any]:
    """One repository as the API shows it alone: its listing fields, the README
    (`full_description`, left out of listings as on Docker Hub), and the content-trust
    setting: effective `trust_required` and `on|off|inherit`, and the signature policy in
    force (its version and whose it is: `own`, `namespace` or `none`)."""
    setting = await request.app[keys.REPOSITORIES].trust_setting(info.name)
    policy = await request.app[keys.SIGNATURE_POLICIES].show(info.name)
    return {
        **repository_json(info),
        "full_description": info.full_description,
        "trust_required": setting.required,
        "trust_required_setting": setting.label,
        "signature_policy": policy.version,
        "signature_policy_setting": policy.label,
    }


async def update_repository(request: web.Request) -> web.Response:
    name = repository_name(request)
    body = await json_body(request)
    description = field(body, "description", str, required=False)
    full_description = field(body, "full_description", str, required=False)  # the README
    is_public = field(body, "is_public", bool, required=False)
    # `trust_required`: true, false, or null to follow the namespace's setting.
    sets_trust = "trust_required" in body
    trust_required = field(body, "trust_required", bool, required=False)
    # `signature_policy`: a policy document (trust.sigs.policy), or null to follow the namespace.
    sets_policy = "signature_policy" in body
    # Describing needs push (the route's rule); changing who may see it or pull it, or which
    # signatures it needs, takes the owner's "*".
    if is_public is not None or sets_trust or sets_policy:
        await require_actions(request, name, {"*"})
    by = {"actor": actor(request), "address": address(request)}
    if sets_policy:
        await request.app[keys.SIGNATURE_POLICIES].set_repository(
            name, body["signature_policy"], **by
        )
    if sets_trust:
        await request.app[keys.REPOSITORIES].set_trust_required(name, trust_required, **by)
    info = await request.app[keys.REPOSITORIES].update(
        name,
        description=description,
        full_description=full_description,
        is_public=is_public,
        **by,
    )
    return web.json_response(await _repository_document(request, info))


async def delete_repository(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: delete
    await request.app[keys.REPOSITORIES].delete(
        name, actor=actor(request), address=address(request), origin=request_origin(request)
    )
    return web.Response(status=204)


async def list_tags(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: pull (others get 404)
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
                    "last_pulled": timestamp(tag.pulled_at),
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
    name = repository_name(request)  # the route's rule: an account that may pull it
    await request.app[keys.REPOSITORIES].star(acting_account(request).user_id, name, starred)
    return web.Response(status=204)


def display_name(name: str) -> str:
    """Official images are shown without `library/`, as Docker Hub does."""
    return name.removeprefix(f"{LIBRARY}/")
