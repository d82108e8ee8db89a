"""`/v2/<name>/blobs/<digest>`: GET and HEAD (with Range), DELETE."""

from __future__ import annotations

import re

from aiohttp import web

from registry import keys
from registry.api.handlers.blobsend import BlobFileResponse
from registry.api.handlers.common import repository_name
from registry.errors import UnsupportedError
from registry.services.manifests import parse_digest

_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _blob_headers(digest: str, size: int) -> dict[str, str]:
    return {
        "Docker-Content-Digest": digest,
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "Cache-Control": "max-age=31536000",
        "ETag": f'"{digest}"',
    }


async def head_blob(request: web.Request) -> web.Response:
    name = repository_name(request)
    digest = parse_digest(request.match_info["digest"])
    size = await request.app[keys.BLOBS].stat(name, digest)
    headers = _blob_headers(str(digest), size)
    headers["Content-Length"] = str(size)
    return web.Response(status=200, headers=headers)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (start, end) of a single `bytes=` range, or None for the whole blob.

    Raises:
        HTTPRequestRangeNotSatisfiable: the range lies outside the blob.
    """
    if not header:
        return None
    match = _RANGE_RE.match(header.strip())
    if match is None or match.groups() == ("", ""):
        return None  # RFC 9110: ignore a Range header we do not understand
    first, last = match.groups()
    if first == "":
        start, end = max(size - int(last), 0), size - 1
    else:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, end


async def get_blob(request: web.Request) -> web.StreamResponse:
    name = repository_name(request)
    digest = parse_digest(request.match_info["digest"])
    blobs = request.app[keys.BLOBS]
    size = await blobs.stat(name, digest)
    headers = _blob_headers(str(digest), size)
    local = blobs.local_path(digest)
    if local is not None:
        # FileResponse serves with sendfile and answers Range (206/416) itself.
        response = BlobFileResponse(local, headers=headers)
        response.content_type = "application/octet-stream"
        return response
    redirect = await blobs.redirect_url(digest)
    if redirect is not None:
        raise web.HTTPTemporaryRedirect(redirect, headers={"Docker-Content-Digest": str(digest)})
    byte_range = _byte_range(request.headers.get("Range"), size)
    start, end = byte_range or (0, size - 1)
    stream = web.StreamResponse(status=206 if byte_range else 200, headers=headers)
    stream.content_length = end - start + 1 if size else 0
    if byte_range:
        stream.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    await stream.prepare(request)
    remaining = end - start + 1 if size else 0
    async for chunk in blobs.open(digest, start):
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
