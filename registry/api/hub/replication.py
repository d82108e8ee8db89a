"""`/api/v1/replication/...`: replication rules, running them, and their history (hub admins).

- `GET/POST /rules`: list, create (the rule document of `registry.replication.rules`;
  the password is sealed at once and never shown again);
- `GET/DELETE /rules/{rule}` (its name or id); `POST /rules/{rule}/pause` and `/resume`;
- `POST /rules/{rule}/runs`: run now and answer the run once finished (409 when it is
  running elsewhere; a client that hangs up does not stop it);
- `GET /rules/{rule}/runs` and `GET /runs`: the history, newest first.
"""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.hub.common import actor, address, json_body
from registry.api.routes import Route
from registry.auth.rules import Rule

__all__ = ["REPLICATION_ROUTES"]

_RULES = "/api/v1/replication/rules"
_RULE = _RULES + "/{rule_id}"  # a rule's name or numeric id


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
    run = await request.app[keys.REPLICATION].run_detached(
        request.match_info["rule_id"], started_by=actor(request), address=address(request)
    )
    return web.json_response(run.to_dict(), status=201)


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
    Route("hub-replication-runs", "GET", "/api/v1/replication/runs", all_runs, _ADMIN),
    Route("hub-replication-rule-runs", "GET", _RULE + "/runs", rule_runs, _ADMIN),
    Route("hub-replication-rule-run", "POST", _RULE + "/runs", start_run, _ADMIN),
    Route("hub-replication-rule-pause", "POST", _RULE + "/pause", pause_rule, _ADMIN),
    Route("hub-replication-rule-resume", "POST", _RULE + "/resume", resume_rule, _ADMIN),
    Route("hub-replication-rule", "GET", _RULE, get_rule, _ADMIN),
    Route("hub-replication-rule-rm", "DELETE", _RULE, delete_rule, _ADMIN),
)
