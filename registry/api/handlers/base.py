"""`GET /v2/`: the API version check, and the health and metrics endpoints."""

from __future__ import annotations

from aiohttp import web

from registry import keys
from registry.api.handlers.common import API_VERSION_HEADER


async def version_check(request: web.Request) -> web.Response:
    return web.json_response({}, headers=API_VERSION_HEADER)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the database answers."""
    async with request.app[keys.ENGINE].connect() as conn:
        await conn.exec_driver_sql("SELECT 1")
    return web.json_response({"status": "ready"})


async def metrics(request: web.Request) -> web.Response:
    return web.Response(
        text=request.app[keys.METRICS].render(), content_type="text/plain", charset="utf-8"
    )
