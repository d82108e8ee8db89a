"""An organization's admin area: robot accounts, immutable tags, retention, webhooks, quota.

Each view calls the service its Hub API handler calls (`registry.api.hub.robots`,
`immutability`, `retention`, `webhooks`, `quotas`), with the same parsing where the API has
one, so a page can do no more than the API would. The route table admits the organization's
owners and hub admins (the API's `organization` and `namespace` rules; for an organization
both mean its managers); setting a quota is for hub admins only, as in the API. Secrets (a
robot's, a webhook's) are in the answer to the form that made them, never on a later page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import require_actions
from registry.auth.authenticator import account_stamp
from registry.errors import InvalidRequestError, NotFoundError
from registry.hub.names import robot_name
from registry.hub.retention_policy import RetentionPolicy
from registry.hub.robots import MAX_LIFETIME
from registry.web.render import render
from registry.web.views.common import address, signed_in
from registry.webhooks.events import DEFAULT_EVENTS, EventType

ROBOT_ACTIONS = ("pull", "push", "delete")
_PAGES = (
    ("robots", "Robot accounts"),
    ("immutable-tags", "Immutable tags"),
    ("retention", "Retention"),
    ("webhooks", "Webhooks"),
    ("quota", "Quota"),
)


def _org(request: web.Request) -> str:
    return request.match_info["org"]


def _by(request: web.Request) -> dict[str, str]:
    return {"actor": signed_in(request).name, "address": address(request)}


async def _form(request: web.Request) -> dict[str, Any]:
    form = await request.post()
    return {key: form.getall(key) for key in form}


def _one(form: dict[str, Any], name: str, *, required: bool = True) -> str:
    values = form.get(name) or [""]
    value = values[0] if isinstance(values[0], str) else ""
    if required and not value.strip():
        raise InvalidRequestError(f"give the {name}", field=name)
    return value.strip()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _page(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    return render(
        request,
        template,
        {"org": _org(request), "pages": _PAGES, **context},
        status=status,
    )


def _back(request: web.Request, page: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"/orgs/{_org(request)}/{page}")


# Robot accounts (`registry.api.hub.robots`).


async def _robots_page(
    request: web.Request, created: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    robots = await request.app[keys.ROBOTS].robots(_org(request))
    return _page(
        request,
        "orgs/robots.html",
        {
            "robots": robots,
            "now": datetime.now(UTC),
            "actions": ROBOT_ACTIONS,
            "max_days": MAX_LIFETIME.days,
            "created": created,
        },
        status=status,
    )


async def robots(request: web.Request) -> web.Response:
    return await _robots_page(request)


def _days(form: dict[str, Any]) -> int:
    raw = _one(form, "expires_days")
    if not raw.isdigit() or not 0 < int(raw) <= MAX_LIFETIME.days:
        raise InvalidRequestError(f"a robot lives 1 to {MAX_LIFETIME.days} days")
    return int(raw)


async def create_robot(request: web.Request) -> web.Response:
    form = await _form(request)
    org = _org(request)
    record, secret = await request.app[keys.ROBOTS].create(
        org,
        _one(form, "name"),
        _lines(_one(form, "repositories")),
        [value for value in form.get("actions", []) if isinstance(value, str)],
        datetime.now(UTC) + timedelta(days=_days(form)),
        description=_one(form, "description", required=False),
        **_by(request),
    )
    # The secret is on this answer only (not a redirect): the hub keeps its digest.
    created = {"login": robot_name(org, record.name), "secret": secret}
    return await _robots_page(request, created, status=201)


async def revoke_robot(request: web.Request) -> web.Response:
    robot = await request.app[keys.ROBOTS].revoke(
        _org(request), request.match_info["robot"], **_by(request)
    )
    # As the API does: the robot's bearer tokens die at once.
    request.app[keys.AUTH].revocations.robot_revoked(robot.id, account_stamp(robot.created_at))
    raise _back(request, "robots")


# Immutable tag rules of the organization's namespace (`registry.api.hub.immutability`).


async def immutable_tags(request: web.Request) -> web.Response:
    rules = await request.app[keys.IMMUTABILITY].rules(_org(request))
    return _page(request, "orgs/immutable.html", {"rules": rules})


async def add_immutable_rule(request: web.Request) -> web.Response:
    pattern = _one(await _form(request), "pattern")
    await request.app[keys.IMMUTABILITY].add(_org(request), pattern, **_by(request))
    raise _back(request, "immutable-tags")


async def remove_immutable_rule(request: web.Request) -> web.Response:
    rule_id = int(request.match_info["rule_id"])  # the route admits digits only
    await request.app[keys.IMMUTABILITY].remove(_org(request), rule_id, **_by(request))
    raise _back(request, "immutable-tags")


# Retention (`registry.api.hub.retention`): the namespace's policy; runs are per repository.


def _count(form: dict[str, Any], name: str) -> int | None:
    raw = _one(form, name, required=False)
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidRequestError(f"{name.replace('_', ' ')} is a whole number", field=name)
    return int(raw)


def _policy_document(form: dict[str, Any]) -> dict[str, Any] | None:
    """The retention policy document the form describes (the API's JSON), None to remove."""
    if _one(form, "remove", required=False):
        return None
    document: dict[str, Any] = {
        key: _count(form, key) for key in ("keep_newest", "keep_pulled_days", "schedule_hours")
    }
    for key in ("keep_matching", "keep_not_matching"):
        patterns = _lines(_one(form, key, required=False))
        document[key] = patterns or None
    return {key: value for key, value in document.items() if value is not None}


async def _retention_page(
    request: web.Request, context: dict[str, Any], status: int = 200
) -> web.Response:
    view = await request.app[keys.RETENTION].show(_org(request))
    policy = view.policy if view is not None else RetentionPolicy()
    return _page(
        request,
        "orgs/retention.html",
        {"view": view, "policy": policy, "run": None, "runs": None, "repository": "", **context},
        status=status,
    )


async def retention(request: web.Request) -> web.Response:
    return await _retention_page(request, {})


async def set_retention(request: web.Request) -> web.Response:
    document = _policy_document(await _form(request))
    await request.app[keys.RETENTION].set_policy(_org(request), document, **_by(request))
    raise _back(request, "retention")


async def _namespace_repository(request: web.Request, form: dict[str, Any]) -> str:
    """The repository of the organization the form names, when the caller holds `*` on it
    (the API's rule for retention runs).

    Raises:
        NotFoundError: not a repository of this organization, or hidden from the caller.
    """
    org = _org(request)
    name = _one(form, "repository")
    full = f"{org}/{name.removeprefix(org + '/')}"
    await require_actions(request, full, {"*"})
    return full


async def retention_dry_run(request: web.Request) -> web.Response:
    form = await _form(request)
    name = await _namespace_repository(request, form)
    retention = request.app[keys.RETENTION]
    result = await retention.run(
        name, dry_run=True, started_by=signed_in(request).name, address=address(request)
    )
    return await _retention_page(
        request,
        {
            "run": result,
            "runs": [(run, json.loads(run.removed)) for run in await retention.history(name)],
            "repository": name,
        },
    )


# Webhooks (`registry.api.hub.webhooks`).


async def _webhooks_page(
    request: web.Request, created: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    hooks = await request.app[keys.WEBHOOKS].list(_org(request))
    return _page(
        request,
        "orgs/webhooks.html",
        {
            "webhooks": hooks,
            "events": [event.value for event in EventType],
            "defaults": {event.value for event in DEFAULT_EVENTS},
            "created": created,
        },
        status=status,
    )


async def webhooks(request: web.Request) -> web.Response:
    return await _webhooks_page(request)


async def create_webhook(request: web.Request) -> web.Response:
    form = await _form(request)
    events = [value for value in form.get("events", []) if isinstance(value, str)]
    record, secret = await request.app[keys.WEBHOOKS].create(
        _org(request),
        _one(form, "url"),
        events=events or None,
        payload_format=_one(form, "format", required=False) or "docker",
        repository=_one(form, "repository", required=False) or None,
        **_by(request),
    )
    created = {"id": record.id, "url": record.url, "secret": secret}
    return await _webhooks_page(request, created, status=201)


def _webhook_id(request: web.Request) -> int:
    return int(request.match_info["webhook_id"])  # the route admits digits only


async def deliveries(request: web.Request) -> web.Response:
    service = request.app[keys.WEBHOOKS]
    webhook_id = _webhook_id(request)
    found = await service.deliveries(_org(request), webhook_id)
    hook = next((h for h in await service.list(_org(request)) if h.id == webhook_id), None)
    if hook is None:  # deleted between the two reads
        raise NotFoundError(f"no webhook {webhook_id}")
    return _page(request, "orgs/deliveries.html", {"webhook": hook, "deliveries": found})


async def redeliver(request: web.Request) -> web.Response:
    webhook_id = _webhook_id(request)
    await request.app[keys.WEBHOOKS].redeliver(
        _org(request), webhook_id, int(request.match_info["delivery_id"])
    )
    raise _back(request, f"webhooks/{webhook_id}")


async def delete_webhook_form(request: web.Request) -> web.Response:
    webhook_id = _webhook_id(request)
    await request.app[keys.WEBHOOKS].deliveries(_org(request), webhook_id, 1)  # 404 if none
    return render(
        request,
        "manage/confirm.html",
        {
            "title": f"Delete webhook {webhook_id} of {_org(request)}",
            "explanation": "The webhook and its delivery log go; its receiver gets no more "
            "events. This cannot be undone.",
            "action": f"/orgs/{_org(request)}/webhooks/{webhook_id}/delete",
            "button": "Delete webhook",
            "back": f"/orgs/{_org(request)}/webhooks",
        },
    )


async def delete_webhook(request: web.Request) -> web.Response:
    await request.app[keys.WEBHOOKS].delete(_org(request), _webhook_id(request), **_by(request))
    raise _back(request, "webhooks")


# Quota (`registry.api.hub.quotas`): the managers see it, hub admins set it.


async def quota(request: web.Request) -> web.Response:
    view = await request.app[keys.QUOTAS].show(_org(request))
    return _page(request, "orgs/quota.html", {"quota": view})


async def set_quota(request: web.Request) -> web.Response:
    raw = _one(await _form(request), "limit_mb", required=False)
    if raw and not raw.isdigit():
        raise InvalidRequestError("the limit is a whole number of megabytes", field="limit_mb")
    limit = int(raw) * 1_000_000 if raw else None  # MB as the page shows sizes (SI)
    await request.app[keys.QUOTAS].set(_org(request), limit, **_by(request))
    raise _back(request, "quota")
