"""`/v2/<name>/blobs/<digest>`: GET and HEAD (with Range and conditional requests), DELETE."""

from __future__ import annotations

import asyncio

from aiohttp import web

from registry import keys
from registry.api.conditional import (
    ByteRange,
    UnsatisfiableRangeError,
    none_match,
    select_range,
)
from registry.api.handlers.blobsend import BlobFileResponse
from registry.api.handlers.common import repository_name
from registry.errors import BlobUnknownError, UnsupportedError
from registry.services.manifests import parse_digest


def _etag(digest: str) -> str:
    # Content-addressed: the digest is a strong validator, the same for GET and HEAD.
    return f'"{digest}"'


def blob_headers(digest: str) -> dict[str, str]:
    """The headers of a blob's GET or HEAD answer (without its length)."""
    return {
        "Docker-Content-Digest": digest,
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "Cache-Control": "max-age=31536000",
        "ETag": _etag(digest),
    }


def _not_modified(request: web.Request, digest: str) -> web.Response | None:
    """304 when `If-None-Match` names the blob (RFC 9110 13.1.2), else None."""
    if not none_match(request.headers.get("If-None-Match"), _etag(digest)):
        return None
    headers = blob_headers(digest)
    del headers["Content-Type"]
    return web.Response(status=304, headers=headers)


async def head_blob(request: web.Request) -> web.Response:
    name = repository_name(request)
    digest = parse_digest(request.match_info["digest"])
    size = await request.app[keys.BLOBS].stat(name, digest)
    not_modified = _not_modified(request, str(digest))
    if not_modified is not None:
        return not_modified
    headers = blob_headers(str(digest))
    headers["Content-Length"] = str(size)
    return web.Response(status=200, headers=headers)


def _requested_range(request: web.Request, digest: str, size: int) -> ByteRange | None:
    """The single byte range to send (RFC 9110; see `registry.api.conditional`).

    Raises:
        HTTPRequestRangeNotSatisfiable: the range lies outside the blob (416).
    """
    try:
        return select_range(
            request.headers.get("Range"), request.headers.get("If-Range"), size, _etag(digest)
        )
    except UnsatisfiableRangeError as exc:
        raise web.HTTPRequestRangeNotSatisfiable(
            headers={"Content-Range": f"bytes */{size}"}
        ) from exc


async def get_blob(request: web.Request) -> web.StreamResponse:
    name = repository_name(request)
    digest = parse_digest(request.match_info["digest"])
    blobs = request.app[keys.BLOBS]
    size = await blobs.stat(name, digest)
    not_modified = _not_modified(request, str(digest))
    if not_modified is not None:
        return not_modified
    local = blobs.local_path(digest)
    if local is None:
        redirect = await blobs.redirect_url(digest)
        if redirect is not None:
            # The object store answers Range and If-Range itself.
            raise web.HTTPTemporaryRedirect(
                redirect, headers={"Docker-Content-Digest": str(digest)}
            )
    headers = blob_headers(str(digest))
    byte_range = _requested_range(request, str(digest), size)
    first, length = (byte_range.first, byte_range.length) if byte_range else (0, size)
    status = 206 if byte_range else 200
    if byte_range:
        headers["Content-Range"] = byte_range.content_range(size)
    if local is not None:
        try:
            blob_file = await asyncio.to_thread(open, local, "rb")
        except FileNotFoundError as exc:  # collected since the lookup
            raise BlobUnknownError(digest=str(digest)) from exc
        return BlobFileResponse(blob_file, first, length, status=status, headers=headers)
    stream = web.StreamResponse(status=status, headers=headers)
    stream.content_length = length
    await stream.prepare(request)
    remaining = length
    if remaining:
        async for chunk in blobs.open(digest, first):
            piece = chunk[:remaining]
            await stream.write(piece)
            remaining -= len(piece)
            if remaining <= 0:
                break
    await stream.write_eof()
    return stream


async def delete_blob(request: web.Request) -> web.Response:
    name = repository_name(request)
    digest = parse_digest(request.match_info["digest"])
    if not request.app[keys.SETTINGS].delete_enabled:
        raise UnsupportedError("deletes are disabled")
    await request.app[keys.BLOBS].unlink(name, digest)
    return web.Response(status=202, headers={"Docker-Content-Digest": str(digest)})
