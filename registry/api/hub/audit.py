"""`/api/v1/audit`: the audit log, newest first, for admins."""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.hub.common import timestamp
from registry.api.hub.paging import MAX_PAGE_SIZE
from registry.errors import InvalidRequestError


async def list_events(request: web.Request) -> web.Response:
    # Hub admins only: the route's rule (`registry.api.hub_routes`).
    limit_raw, before_raw = request.query.get("limit", "100"), request.query.get("before")
    if not limit_raw.isdigit() or (before_raw is not None and not before_raw.isdigit()):
        raise InvalidRequestError("limit and before are integers")
    events = await request.app[keys.AUDIT].events(
        limit=min(int(limit_raw), MAX_PAGE_SIZE * 10),
        before=int(before_raw) if before_raw is not None else None,
        action=request.query.get("action") or None,
    )
    return web.json_response(
        {
            "events": [
                {
                    "id": e.id,
                    "time": timestamp(e.created_at),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "address": e.address,
                    "detail": e.detail,
                }
                for e in events
            ]
        }
    )
