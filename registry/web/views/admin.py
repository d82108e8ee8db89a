"""Admin pages: users, the audit log, the hub's health and settings, and garbage collection
(a dry run, then a run).

The route table admits admins only (a password session of an admin account, as the Hub API's
`require_admin`). Calls go to the same services as `/api/v1/users`, `/api/v1/audit` and
`berth-hub gc`.
"""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.errors import InvalidRequestError
from registry.hub.health import check_health, public_settings
from registry.services.gc import GarbageCollector, GcOptions
from registry.web.render import render
from registry.web.views.common import address, signed_in

AUDIT_PAGE_SIZE = 50


async def users(request: web.Request) -> web.Response:
    listing = await request.app[keys.ACCOUNTS].users()
    return render(request, "admin/users.html", {"users": listing})


async def add_user(request: web.Request) -> web.Response:
    form = await request.post()
    name, password = form.get("name"), form.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise InvalidRequestError("give a name and a password")
    await request.app[keys.ACCOUNTS].add_user(
        name.strip(),
        password,
        is_admin=form.get("is_admin") == "1",
        actor=signed_in(request).name,
        address=address(request),
    )
    raise web.HTTPSeeOther("/admin/users")


async def remove_user_form(request: web.Request) -> web.Response:
    name = request.match_info["user"]
    await request.app[keys.ACCOUNTS].user(name)  # 404 for nobody
    return render(
        request,
        "manage/confirm.html",
        {
            "title": f"Delete user {name}",
            "explanation": "The account goes with its access tokens, stars, team memberships "
            "and sessions; its repositories stay.",
            "action": f"/admin/users/{name}/delete",
            "button": "Delete user",
            "back": "/admin/users",
        },
    )


async def remove_user(request: web.Request) -> web.Response:
    await request.app[keys.ACCOUNTS].remove_user(
        request.match_info["user"], actor=signed_in(request).name, address=address(request)
    )
    raise web.HTTPSeeOther("/admin/users")


async def audit(request: web.Request) -> web.Response:
    action = request.query.get("action", "").strip()[:32] or None
    before_raw = request.query.get("before", "")
    before = int(before_raw) if before_raw.isdigit() else None
    events = await request.app[keys.AUDIT].events(
        limit=AUDIT_PAGE_SIZE, before=before, action=action
    )
    older = events[-1].id if len(events) == AUDIT_PAGE_SIZE else None
    return render(
        request, "admin/audit.html", {"events": events, "action": action or "", "older": older}
    )


async def health(request: web.Request) -> web.Response:
    checks = await check_health(request.app[keys.ENGINE], request.app[keys.DRIVER])
    return render(
        request,
        "admin/health.html",
        {"checks": checks, "settings": public_settings(request.app[keys.SETTINGS])},
    )


def _collector(request: web.Request) -> GarbageCollector:
    return GarbageCollector(request.app[keys.DRIVER], request.app[keys.ENGINE])


async def gc_form(request: web.Request) -> web.Response:
    return render(request, "admin/gc.html", {"report": None})


async def gc_run(request: web.Request) -> web.Response:
    dry_run = (await request.post()).get("mode") != "run"
    settings = request.app[keys.SETTINGS]
    report = await _collector(request).run(GcOptions(grace=settings.gc_grace, dry_run=dry_run))
    await request.app[keys.AUDIT].record(
        signed_in(request).name,
        "gc",
        "hub",
        address(request),
        dry_run=dry_run,
        manifests=len(report.manifests),
        blobs=len(report.blobs),
    )
    return render(request, "admin/gc.html", {"report": report})
