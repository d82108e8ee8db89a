"""The hub's first middlewares: request log + metrics, then errors -> OCI JSON.

Authorisation comes after them (`registry.api.authorization`), with the Hub's own hooks between.
"""

from __future__ import annotations

import logging
import random
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from registry import keys
from registry.api import urls
from registry.api.accesslog import write_access_line
from registry.errors import RangeInvalidError, RegistryError
from registry.oci.errorcodes import ERROR_CODES

logger = logging.getLogger(__name__)

__all__ = ["error_middleware", "log_middleware"]

# Errors whose HTTP status differs from their code's default in the spec table.
_STATUS_OVERRIDES = {
    "ManifestTooLargeError": 413,
    # Docker token auth answers an insufficient bearer scope with 401 and a fresh challenge,
    # as Distribution and Notary do, so clients can fetch a token with more scope.
    "InsufficientScopeError": 401,
}


# aiohttp's HTTP exceptions by status, as spec codes (Hub API codes beyond the spec's table).
_CODE_BY_STATUS = {
    404: "NOT_FOUND",
    405: "UNSUPPORTED",
    413: "SIZE_INVALID",
    416: "RANGE_INVALID",
}
_KEPT_HEADERS = ("Allow", "Content-Range", "Retry-After")


@web.middleware
async def log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    # Unique, not secret: no system call for random bytes on every request.
    request_id = request.headers.get("X-Request-Id") or f"{random.getrandbits(128):032x}"
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        elapsed = time.perf_counter() - started
        route = request.match_info.route.name or "unmatched"
        metrics = request.app[keys.METRICS]
        metrics.inc(
            "berth_http_requests_total", method=request.method, route=route, status=str(status)
        )
        metrics.inc("berth_http_request_seconds_total", elapsed, route=route)
        write_access_line(
            {
                "request_id": request_id,
                "remote": request.remote,
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
            }
        )


def error_response(code: str, message: str, detail: object, status: int) -> web.Response:
    body = {"errors": [{"code": code, "message": message, "detail": detail}]}
    return web.json_response(body, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RangeInvalidError as exc:
        # Out-of-order chunk: 416 with the range the upload really has (distribution-spec).
        name = request.match_info.get("name", "")
        upload_id = request.match_info.get("uuid", "")
        response = error_response(
            "BLOB_UPLOAD_INVALID", exc.message or "invalid content range", exc.detail, 416
        )
        response.headers.update(
            {
                "Location": urls.upload(name, upload_id),
                "Range": f"0-{max(exc.current_size - 1, 0)}",
                "Docker-Upload-UUID": upload_id,
            }
        )
        return response
    except RegistryError as exc:
        row = ERROR_CODES[exc.code]
        status = _STATUS_OVERRIDES.get(type(exc).__name__, row.status)
        response = error_response(exc.code, exc.message or row.message, exc.detail, status)
        if status in (401, 429):
            # The Bearer challenge of a 401, the Retry-After of a 429.
            response.headers.update(getattr(exc, "headers", {}))
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects
        return _http_error(exc)


def _http_error(exc: web.HTTPException) -> web.Response:
    """aiohttp's own refusals (no such route, method, body too large) in the spec's format."""
    code = _CODE_BY_STATUS.get(exc.status, "INVALID_REQUEST" if exc.status < 500 else "UNKNOWN")
    response = error_response(code, exc.reason, {}, exc.status)
    for name in _KEPT_HEADERS:
        if name in exc.headers:
            response.headers[name] = exc.headers[name]
    return response

