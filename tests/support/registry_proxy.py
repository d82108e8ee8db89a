"""A fault-injecting HTTP proxy in front of a registry, for client tests.

It forwards every request to an upstream registry and records (method, path, Range header).
Faults, switchable while it runs: `throttle` (bytes per second for blob GET bodies, so a test
can interrupt a download half-way) and `corrupt_blobs` (flip the first byte of every blob body
larger than `CORRUPT_MIN_SIZE`, i.e. layers but not configs, so the client receives layer
content that does not match its digest). It runs its own event loop in a
thread, so synchronous tests can use it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.support.ports import free_port

__all__ = ["CORRUPT_MIN_SIZE", "RecordedRequest", "RegistryProxy"]

logger = logging.getLogger(__name__)

_BLOB_GET = re.compile(r"^/v2/.+/blobs/sha256:[a-f0-9]{64}$")
CORRUPT_MIN_SIZE = 4096  # bytes; configs are smaller, the test images' layers larger
_HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True)
class RecordedRequest:
    """One request the proxy forwarded."""

    method: str
    path: str
    range: str | None


@dataclass
class RegistryProxy:
    """Proxy `127.0.0.1:PORT` -> `upstream` (`host:port`)."""

    upstream: str
    throttle: int | None = None  # bytes per second for blob bodies; None: full speed
    corrupt_blobs: bool = False
    requests: list[RecordedRequest] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> RegistryProxy:
        """Start serving (in a background thread)."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def stop(self) -> None:
        """Stop serving and end the thread."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        self.requests.append(RecordedRequest(request.method, request.path,
                                             request.headers.get("Range")))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_HEADERS}
        body = await request.read()
        url = f"http://{self.upstream}{request.path_qs}"
        async with self._session.request(request.method, url, headers=headers, data=body,
                                         allow_redirects=False) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP_HEADERS:
                    response.headers[key] = value
            if upstream.headers.get("Content-Length") is not None:
                response.content_length = int(upstream.headers["Content-Length"])
            await response.prepare(request)
            is_blob = request.method == "GET" and _BLOB_GET.match(request.path) is not None
            corrupt = (is_blob and self.corrupt_blobs
                       and int(upstream.headers.get("Content-Length", 0)) > CORRUPT_MIN_SIZE)
            first = True
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                if corrupt and first and chunk:
                    chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                first = False
                await response.write(chunk)
                if is_blob and self.throttle:
                    await asyncio.sleep(len(chunk) / self.throttle)
            await response.write_eof()
            return response
