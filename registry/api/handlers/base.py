"""`GET /v2/`: the API version check, and the health and metrics endpoints."""

from __future__ import annotations

from aiohttp import web

from registry import keys


async def version_check(request: web.Request) -> web.Response:
    # Docker-Distribution-API-Version, which clients look for here, is on every response.
    return web.json_response({})


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
