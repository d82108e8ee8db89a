"""`/api/v1/audit`: the audit log, newest first, for admins."""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.hub.common import timestamp
from registry.api.hub.paging import MAX_PAGE_SIZE
from registry.api.params import non_negative_int
from registry.errors import InvalidRequestError


async def list_events(request: web.Request) -> web.Response:
    # Hub admins only: the route's rule (`registry.api.hub_routes`).
    limit = non_negative_int(request.query.get("limit", "100"))
    before_raw = request.query.get("before")
    before = non_negative_int(before_raw) if before_raw is not None else None
    if limit is None or (before_raw is not None and before is None):
        raise InvalidRequestError("limit and before are non-negative 64-bit integers")
    events = await request.app[keys.AUDIT].events(
        limit=min(limit, MAX_PAGE_SIZE * 10),
        before=before,
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
