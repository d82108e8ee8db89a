"""`/api/v1/namespaces/{namespace}/quota`: a namespace's storage quota and usage.

`GET` answers `{"namespace", "limit_bytes": int | null, "used_bytes": int}` to the namespace's
managers and hub admins; `PUT {"limit_bytes": int | null}` sets the limit in bytes (null
removes the quota), for hub admins only, as in Harbor: owners see their quota, admins set it.
What counts as usage is in `registry.db.quota_queries`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import actor, address, json_body
from registry.errors import InvalidRequestError
from registry.hub.quotas import QuotaView

__all__ = ["get_quota", "put_quota", "quota_json"]


def quota_json(view: QuotaView) -> dict[str, Any]:
    """The quota as the API shows it."""
    return {
        "namespace": view.namespace,
        "limit_bytes": view.limit_bytes,
        "used_bytes": view.used_bytes,
    }


async def get_quota(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]  # the route's rule: its managers
    return web.json_response(quota_json(await request.app[keys.QUOTAS].show(namespace)))


async def put_quota(request: web.Request) -> web.Response:
    namespace = request.match_info["namespace"]  # the route's rule: hub admins
    body = await json_body(request)
    if "limit_bytes" not in body:
        raise InvalidRequestError(
            "give limit_bytes (bytes, or null: no quota)", field="limit_bytes"
        )
    limit = body["limit_bytes"]
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool)):
        raise InvalidRequestError(
            "limit_bytes must be a whole number of bytes or null", field="limit_bytes"
        )
    view = await request.app[keys.QUOTAS].set(
        namespace, limit, actor=actor(request), address=address(request)
    )
    return web.json_response(quota_json(view))
