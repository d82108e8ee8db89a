"""`.../retention`: retention policies of repositories and namespaces, runs and their history.

`PUT {"policy": {...} | null}` sets or removes a policy (`registry.hub.retention_policy`);
`GET` shows the one in force (for a repository: its own, else its namespace's).
`POST .../retention/runs {"dry_run": false}` runs the repository's policy and answers what it
removed (without `"dry_run": false`, what it would remove); `GET .../retention/runs` lists
the latest runs.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from registry import keys
from registry.api.handlers.common import repository_name
from registry.api.hub.common import actor, address, field, json_body, timestamp
from registry.db.retention_queries import RunRow
from registry.errors import InvalidRequestError
from registry.hub.retention import PolicyView, RetentionRunResult

__all__ = [
    "get_namespace_policy",
    "get_repository_policy",
    "list_runs",
    "put_namespace_policy",
    "put_repository_policy",
    "start_run",
]


def _policy_json(view: PolicyView | None) -> dict[str, Any]:
    if view is None:
        return {"policy": None, "scope": None}
    return {
        "policy": view.policy.to_dict(),
        "scope": view.scope,
        "next_run_at": timestamp(view.next_run_at),
        "updated_by": view.updated_by,
        "updated_at": timestamp(view.updated_at),
    }


def _run_json(result: RetentionRunResult) -> dict[str, Any]:
    return {
        "id": result.run_id,
        "repository": result.repository,
        "policy_scope": result.policy_scope,
        "dry_run": result.dry_run,
        "removed": list(result.removed),
        "kept": result.kept,
    }


def _history_json(run: RunRow) -> dict[str, Any]:
    return {
        "id": run.id,
        "repository": run.repository,
        "started_by": run.started_by,
        "dry_run": run.dry_run,
        "started_at": timestamp(run.started_at),
        "finished_at": timestamp(run.finished_at),
        "removed": json.loads(run.removed),
        "kept": run.kept,
    }


async def _document(request: web.Request) -> Any:
    body = await json_body(request)
    if "policy" not in body:
        raise InvalidRequestError("give policy (a retention policy object, or null)")
    return body["policy"]


async def get_repository_policy(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: pull (others get 404)
    return web.json_response(_policy_json(await request.app[keys.RETENTION].effective(name)))


async def put_repository_policy(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: the owner's `*`
    view = await request.app[keys.RETENTION].set_policy(
        name, await _document(request), actor=actor(request), address=address(request)
    )
    return web.json_response(_policy_json(view))


async def get_namespace_policy(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]  # the route's rule: its managers
    return web.json_response(_policy_json(await request.app[keys.RETENTION].show(namespace)))


async def put_namespace_policy(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]
    view = await request.app[keys.RETENTION].set_policy(
        namespace, await _document(request), actor=actor(request), address=address(request)
    )
    return web.json_response(_policy_json(view))


async def start_run(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: the owner's `*`
    dry_run = field(await json_body(request), "dry_run", bool, required=False)
    result = await request.app[keys.RETENTION].run(
        name,
        dry_run=dry_run is not False,  # deleting takes an explicit `"dry_run": false`
        started_by=actor(request),
        address=address(request),
    )
    return web.json_response(_run_json(result), status=200 if result.dry_run else 201)


async def list_runs(request: web.Request) -> web.Response:
    name = repository_name(request)  # the route's rule: pull (others get 404)
    runs = await request.app[keys.RETENTION].history(name)
    return web.json_response({"repository": name, "runs": [_history_json(r) for r in runs]})
