"""`/v2/<name>/blobs/uploads/`: start (monolithic, session or mount), PATCH, PUT, GET, DELETE."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from registry import keys
from registry.api import urls
from registry.api.handlers.common import repository_name, resolve_repository
from registry.auth.access import Access
from registry.errors import BlobUploadInvalidError
from registry.services.manifests import parse_digest
from registry.services.uploads import UploadStatus, parse_content_range


def _body(request: web.Request) -> AsyncIterator[bytes]:
    return request.content.iter_any()


def _range_value(size: int) -> str:
    # Distribution answers "0-0" for an empty upload; clients expect that shape.
    return f"0-{max(size - 1, 0)}"


def _session_headers(request: web.Request, name: str, status: UploadStatus) -> dict[str, str]:
    headers = {
        "Location": urls.upload(name, status.upload_id),
        "Range": _range_value(status.size),
        "Docker-Upload-UUID": status.upload_id,
    }
    minimum = request.app[keys.SETTINGS].upload_chunk_min_bytes
    if minimum:
        headers["OCI-Chunk-Min-Length"] = str(minimum)
    return headers


def _created(name: str, digest: str) -> web.Response:
    return web.Response(
        status=201,
        headers={"Location": urls.blob(name, digest), "Docker-Content-Digest": digest},
    )


async def start_upload(request: web.Request) -> web.Response:
    name = repository_name(request)
    uploads = request.app[keys.UPLOADS]
    mount, source = request.query.get("mount"), request.query.get("from")
    if mount:
        digest = parse_digest(mount)
        if source:
            # Checked and mounted under the same resolved name: `from=` is a path like `<name>`.
            source = resolve_repository(request, source)
            wanted = Access("repository", source, frozenset({"pull"}))
            if await request.app[keys.ACCESS].allowed(request, wanted) and await request.app[
                keys.BLOBS
            ].mount(name, digest, source):
                return _created(name, str(digest))
        # Spec: when the blob cannot be mounted, fall back to a regular upload session.
    elif "digest" in request.query:
        digest = parse_digest(request.query["digest"])
        await uploads.put_monolithic(name, digest, _body(request), request.content_length)
        return _created(name, str(digest))
    status = await uploads.start(name)
    return web.Response(status=202, headers=_session_headers(request, name, status))


async def upload_status(request: web.Request) -> web.Response:
    name = repository_name(request)
    status = await request.app[keys.UPLOADS].status(name, request.match_info["uuid"])
    return web.Response(status=204, headers=_session_headers(request, name, status))


async def patch_upload(request: web.Request) -> web.Response:
    name = repository_name(request)
    start = length = None
    content_range = request.headers.get("Content-Range")
    if content_range:
        start, end = parse_content_range(content_range)
        length = end - start + 1
        if request.content_length is not None and request.content_length != length:
            raise BlobUploadInvalidError("Content-Range and Content-Length disagree")
    status = await request.app[keys.UPLOADS].append(
        name, request.match_info["uuid"], _body(request), start=start, length=length
    )
    return web.Response(status=202, headers=_session_headers(request, name, status))


async def finish_upload(request: web.Request) -> web.Response:
    name = repository_name(request)
    if "digest" not in request.query:
        raise BlobUploadInvalidError("digest query parameter is required")
    digest = parse_digest(request.query["digest"])
    has_body = bool(request.content_length) or request.headers.get("Transfer-Encoding") == "chunked"
    await request.app[keys.UPLOADS].complete(
        name,
        request.match_info["uuid"],
        digest,
        _body(request) if has_body else None,
        request.content_length if has_body else None,
    )
    return _created(name, str(digest))


async def cancel_upload(request: web.Request) -> web.Response:
    name = repository_name(request)
    await request.app[keys.UPLOADS].cancel(name, request.match_info["uuid"])
    return web.Response(status=204)
