"""`/api/v1/replication/...`: replication rules, running them, and their history (hub admins).

- `GET/POST /rules`: list, create (the rule document of `registry.replication.rules`;
  the password is sealed at once and never shown again);
- `GET/DELETE /rules/{rule}` (its name or id); `POST /rules/{rule}/pause` and `/resume`;
- `POST /rules/{rule}/runs`: start a run and answer at once, 202 with the run (`running`)
  and its `Location`, as Harbor's executions API (409 when the rule is running anywhere);
  the hub process that answered carries it on;
- `GET /rules/{rule}/runs` and `GET /runs`: the history, newest first; `GET /runs/{run}`:
  one run, to follow it until its `status` is no longer `running`.
"""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.hub.common import actor, address, json_body
from registry.api.routes import Route
from registry.auth.rules import Rule
from registry.errors import NotFoundError

__all__ = ["REPLICATION_ROUTES"]

_RULES = "/api/v1/replication/rules"
_RULE = _RULES + "/{rule_id}"  # a rule's name or numeric id
_RUNS = "/api/v1/replication/runs"


async def list_rules(request: web.Request) -> web.Response:
    rules = await request.app[keys.REPLICATION].rules()
    return web.json_response({"rules": [rule.to_dict() for rule in rules]})


async def create_rule(request: web.Request) -> web.Response:
    rule = await request.app[keys.REPLICATION].add(
        await json_body(request), actor=actor(request), address=address(request)
    )
    return web.json_response(rule.to_dict(), status=201)


async def get_rule(request: web.Request) -> web.Response:
    rule = await request.app[keys.REPLICATION].rule(request.match_info["rule_id"])
    return web.json_response(rule.to_dict())


async def delete_rule(request: web.Request) -> web.Response:
    await request.app[keys.REPLICATION].remove(
        request.match_info["rule_id"], actor=actor(request), address=address(request)
    )
    return web.Response(status=204)


async def pause_rule(request: web.Request) -> web.Response:
    return await _enable(request, False)


async def resume_rule(request: web.Request) -> web.Response:
    return await _enable(request, True)


async def _enable(request: web.Request, enabled: bool) -> web.Response:
    rule = await request.app[keys.REPLICATION].set_enabled(
        request.match_info["rule_id"], enabled, actor=actor(request), address=address(request)
    )
    return web.json_response(rule.to_dict())


async def start_run(request: web.Request) -> web.Response:
    run = await request.app[keys.REPLICATION].start(
        request.match_info["rule_id"], started_by=actor(request), address=address(request)
    )
    location = f"{_RUNS}/{run.id}"
    return web.json_response(run.to_dict(), status=202, headers={"Location": location})


async def get_run(request: web.Request) -> web.Response:
    run_id = request.match_info["run_id"]
    if not run_id.isdigit() or len(run_id) > 18:
        raise NotFoundError(f"no replication run {run_id!r}", run=run_id)
    run = await request.app[keys.REPLICATION].run_by_id(int(run_id))
    return web.json_response(run.to_dict())


async def rule_runs(request: web.Request) -> web.Response:
    runs = await request.app[keys.REPLICATION].history(request.match_info["rule_id"])
    return web.json_response({"runs": [run.to_dict() for run in runs]})


async def all_runs(request: web.Request) -> web.Response:
    runs = await request.app[keys.REPLICATION].history(None)
    return web.json_response({"runs": [run.to_dict() for run in runs]})


_ADMIN = Rule.hub_admin()

REPLICATION_ROUTES: tuple[Route, ...] = (
    Route("hub-replication-rules", "GET", _RULES, list_rules, _ADMIN),
    Route("hub-replication-rule-add", "POST", _RULES, create_rule, _ADMIN),
    Route("hub-replication-runs", "GET", _RUNS, all_runs, _ADMIN),
    Route("hub-replication-run", "GET", _RUNS + "/{run_id}", get_run, _ADMIN),
    Route("hub-replication-rule-runs", "GET", _RULE + "/runs", rule_runs, _ADMIN),
    Route("hub-replication-rule-run", "POST", _RULE + "/runs", start_run, _ADMIN),
    Route("hub-replication-rule-pause", "POST", _RULE + "/pause", pause_rule, _ADMIN),
    Route("hub-replication-rule-resume", "POST", _RULE + "/resume", resume_rule, _ADMIN),
    Route("hub-replication-rule", "GET", _RULE, get_rule, _ADMIN),
    Route("hub-replication-rule-rm", "DELETE", _RULE, delete_rule, _ADMIN),
)
