"""Requests about repositories of proxy namespaces go through the pull-through cache.

Runs after authorisation (only callers who may pull make the hub reach an upstream) and after
the Hub's name resolution. Pushes are refused with DENIED; a manifest GET or HEAD first fills
the manifest (a tag revalidated as `registry.proxy.cache` says) and the registry's handler
serves it, with a `Warning` header when the upstream failed and a cached tag is served; a blob
the hub lacks is answered from its upstream fetch while that fetch is stored (or, when another
hub process sharing the database fetches it, from the store once it landed:
`registry.proxy.fetchclaims`). Every other
route (tags, referrers, deletes) sees only what is cached.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiohttp import web
from aiohttp.typedefs import Handler

from registry import keys
from registry.api.handlers.blobs import blob_headers
from registry.api.handlers.blobsend import send_in_thread
from registry.db import queries
from registry.errors import DeniedError
from registry.oci.digest import Digest, DigestError
from registry.proxy.cache import Proxied, ProxyCache
from registry.services.manifests import parse_digest, parse_reference

logger = logging.getLogger(__name__)

__all__ = ["mirror_middleware", "proxy_middleware"]

_PUSH_ROUTES = frozenset(
    {"upload-start", "upload-status", "upload-patch", "upload-put", "upload-delete",
     "manifest-put"}
)
_MANIFEST_ROUTES = frozenset({"manifest-get", "manifest-head"})
_BLOB_ROUTES = frozenset({"blob-get", "blob-head"})
_PULL_ROUTES = _MANIFEST_ROUTES | _BLOB_ROUTES | {"tags-list"}
SEND_CHUNK = 1 << 20  # bytes read from a fetch's file at a time, where sendfile cannot serve


@web.middleware
async def mirror_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Pulls of repositories the hub lacks go to the mirror namespace (`[proxy] mirror`).

    This is how dockerd's `registry-mirrors` reach an upstream through the hub: dockerd asks
    for `library/busybox`, not for `<namespace>/library/busybox`. The name is rewritten before
    authorisation, so the mirror namespace's permissions apply. A repository the hub has
    (pushed, or in a proxy namespace already) is served as it is.
    """
    name = request.match_info.get("name")
    if name is None or request.match_info.route.name not in _PULL_ROUTES:
        return await handler(request)
    cache = request.app[keys.PROXY]
    if cache.mirror is None or cache.proxied(name) is not None:
        return await handler(request)
    if not await request.app[keys.READS].fetch(queries.REPOSITORY_BY_NAME, {"repo": name}):
        request.match_info["name"] = f"{cache.mirror}/{name}"
    return await handler(request)


@web.middleware
async def proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    cache = request.app[keys.PROXY]
    route = request.match_info.route.name
    name = request.match_info.get("name")
    proxied = cache.proxied(name) if name is not None else None
    if proxied is None:
        return await handler(request)
    if route in _PUSH_ROUTES:
        raise DeniedError(
            f"{proxied.namespace.name}/ is a pull-through cache of {proxied.upstream.url}: "
            "pushes are refused; push to another namespace",
            namespace=proxied.namespace.name,
        )
    if route in _MANIFEST_ROUTES:
        return await _manifest(request, handler, cache, proxied)
    if route in _BLOB_ROUTES:
        return await _blob(request, handler, cache, proxied)
    return await handler(request)


async def _manifest(
    request: web.Request, handler: Handler, cache: ProxyCache, proxied: Proxied
) -> web.StreamResponse:
    try:
        reference = parse_reference(request.match_info["reference"])
    except (ValueError, DigestError):
        return await handler(request)  # the handler names the mistake
    warning = await cache.fill_manifest(proxied, reference)
    response = await handler(request)
    if warning is not None:
        response.headers["Warning"] = warning
    return response


async def _blob(
    request: web.Request, handler: Handler, cache: ProxyCache, proxied: Proxied
) -> web.StreamResponse:
    digest = parse_digest(request.match_info["digest"])
    # A fetch that delivered every byte may be linking and storing them right now: wait.
    if await cache.stored_by_fetch(proxied, digest) or await cache.has_blob(proxied, digest):
        return await handler(request)
    if request.method == "HEAD":
        size = await cache.upstream_blob_size(proxied, digest)
        headers = blob_headers(str(digest))
        if size is not None:
            headers["Content-Length"] = str(size)
        return web.Response(headers=headers)
    return await _stream_fetch(request, handler, cache, proxied, digest)


async def _stream_fetch(
    request: web.Request, handler: Handler, cache: ProxyCache, proxied: Proxied, digest: Digest
) -> web.StreamResponse:
    """The blob as its upstream fetch delivers it (a Range is ignored: RFC 9110 14.2)."""
    reader = await request.app[keys.PROXY_CLAIMS].fetch(proxied, digest)
    if reader is None:  # another hub process fetched and stored it meanwhile
        return await handler(request)
    with reader:
        stream = web.StreamResponse(headers=blob_headers(str(digest)))
        if reader.fetch.size is not None:
            stream.content_length = reader.fetch.size
        await stream.prepare(request)
        try:
            async for offset, count in reader.fetch.ranges():
                await _send(request, stream, reader.file, offset, count)
        except Exception as exc:
            # The status is sent: only a short body can tell the client. Cut the connection.
            logger.warning("blob %s of %s cut short: %s", digest, proxied.repository, exc)
            if request.transport is not None:
                request.transport.abort()
            return stream
    await stream.write_eof()
    await cache.fetched(proxied, reader.fetch)
    return stream


async def _send(request: web.Request, stream: web.StreamResponse, file: int, offset: int,
                count: int) -> None:
    """Bytes of a fetch's file: by sendfile from a worker where it can, else read and written.

    A chunked answer (the upstream gave no length) goes through aiohttp, which frames it.
    """
    transport = request.transport
    if transport is None:
        raise ConnectionResetError("the client went away")
    if stream.content_length is not None and await send_in_thread(
        transport, file, offset, count
    ):
        return
    end = offset + count
    while offset < end:
        data = await asyncio.to_thread(os.pread, file, min(end - offset, SEND_CHUNK), offset)
        if not data:
            raise ConnectionResetError("the fetch's file ended early")
        await stream.write(data)
        offset += len(data)
