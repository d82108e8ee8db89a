"""A fault-injecting HTTP proxy in front of a registry, for client tests.

It forwards every request to an upstream registry and records (method, path, Range header).
Faults, switchable while it runs: `throttle` (bytes per second for blob GET bodies, so a test
can interrupt a download half-way) and `corrupt_blobs` (flip the first byte of every blob body
larger than `CORRUPT_MIN_SIZE`, i.e. layers but not configs, so the client receives layer
content that does not match its digest) and `drop_patches` (the next N upload PATCHes reach
the registry, but the client's connection is cut before it sees the answer, so it must ask the
registry how much it holds and resume), and likewise `drop_upload_puts` (the PUTs that close
an upload) and `drop_manifest_puts`; `fail_status` answers every registry request with that
status (429 with `Retry-After: 1`), as an overloaded or broken registry does, and
`cut_blobs_after` cuts the connection after that many bytes of a blob body, as a registry
that dies mid-transfer does; `hold()` keeps every registry request waiting (recorded, not
forwarded) until `release()`, as a remote that stopped answering. It runs its own event loop
in a thread, so synchronous tests can use it.

Optionally it also stands in for the parts of a hub the reference registry lacks:
- `credentials=(user, password)` puts the registry behind auth. With `auth_scheme="bearer"`
  it speaks Docker's token protocol (401 + `WWW-Authenticate: Bearer realm=.../token,
  service=...,scope=...`; `/token` checks Basic credentials and issues an opaque token);
  with `"basic"` it wants Basic credentials on every request.
- `search_results` is served as Docker's v1 search JSON on `/v1/search`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.support.ports import bound_socket

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
    drop_patches: int = 0  # forward this many PATCHes, then cut the connection unanswered
    drop_upload_puts: int = 0  # likewise for the PUTs that close a blob upload
    drop_manifest_puts: int = 0  # likewise for manifest PUTs
    fail_status: int | None = None  # answer every /v2/ request with this status
    cut_blobs_after: int | None = None  # bytes of a blob body sent before the cut
    credentials: tuple[str, str] | None = None
    auth_scheme: str = "bearer"
    search_results: list[dict[str, object]] | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    token_scopes: list[str] = field(default_factory=list)
    port: int = field(init=False)

    def __post_init__(self) -> None:
        self._socket = bound_socket()
        self.port = self._socket.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._tokens: set[str] = set()
        self._open = asyncio.Event()  # cleared while requests are held
        self._open.set()

    @property
    def host(self) -> str:
        """`127.0.0.1:PORT`."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> RegistryProxy:
        """Start serving (in a background thread)."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def hold(self) -> None:
        """Keep every registry request from now on waiting, unanswered, until `release`."""
        self._in_loop(self._open.clear)

    def release(self) -> None:
        """Forward the held requests and those that follow."""
        self._in_loop(self._open.set)

    def _in_loop(self, change: Callable[[], None]) -> None:
        async def run() -> None:
            change()

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def stop(self) -> None:
        """Stop serving and end the thread."""
        self.release()
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=1 << 30)
        app.router.add_get("/token", self._token)
        app.router.add_get("/v1/search", self._search)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def _drop_answer(self, method: str, path: str) -> bool:
        """Whether to cut the connection before the answer to this request (and count it)."""
        if method == "PATCH" and self.drop_patches > 0:
            self.drop_patches -= 1
            return True
        if method == "PUT" and "/blobs/uploads/" in path and self.drop_upload_puts > 0:
            self.drop_upload_puts -= 1
            return True
        if method == "PUT" and "/manifests/" in path and self.drop_manifest_puts > 0:
            self.drop_manifest_puts -= 1
            return True
        return False

    def _basic_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic ") or self.credentials is None:
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, password) == self.credentials

    def _authorized(self, request: web.Request) -> bool:
        if self.credentials is None:
            return True
        if self.auth_scheme == "basic":
            return self._basic_ok(request)
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and header[7:] in self._tokens

    def _challenge(self, request: web.Request) -> web.Response:
        if self.auth_scheme == "basic":
            value = 'Basic realm="test-registry"'
        else:
            match = re.match(r"^/v2/(.+)/(?:blobs|manifests|tags)/", request.path)
            scope = f',scope="repository:{match.group(1)}:pull"' if match else ""
            value = (f'Bearer realm="http://{self.host}/token",service="test-registry"'
                     f"{scope}")
        body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
        return web.Response(status=401, body=body, content_type="application/json",
                            headers={"WWW-Authenticate": value})

    async def _token(self, request: web.Request) -> web.Response:
        if not self._basic_ok(request):
            return web.json_response({"details": "incorrect username or password"},
                                     status=401)
        self.token_scopes.extend(request.query.getall("scope", []))
        token = secrets.token_hex(16)
        self._tokens.add(token)
        return web.json_response({"token": token, "access_token": token, "expires_in": 300})

    async def _search(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._challenge(request)
        self.requests.append(RecordedRequest("GET", request.path_qs, None))
        query = request.query.get("q", "")
        results = [r for r in self.search_results or [] if query in str(r.get("name"))]
        limit = int(request.query.get("n", "25"))
        return web.json_response({"num_results": len(results), "query": query, "page": 1,
                                  "num_pages": 1, "page_size": limit,
                                  "results": results[:limit]})

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        self.requests.append(RecordedRequest(request.method, request.path,
                                             request.headers.get("Range")))
        await self._open.wait()
        if self.fail_status is not None:
            headers = {"Retry-After": "1"} if self.fail_status == 429 else {}
            body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'
            return web.Response(status=self.fail_status, headers=headers, body=body)
        if not self._authorized(request):
            return self._challenge(request)
        # Host is kept, so upstream Location headers point back at the proxy.
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in _HOP_HEADERS - {"host"} and k.lower() != "authorization"}
        body = await request.read()
        url = f"http://{self.upstream}{request.path_qs}"
        async with self._session.request(request.method, url, headers=headers, data=body,
                                         allow_redirects=False) as upstream:
            if self._drop_answer(request.method, request.path):
                await upstream.read()
                assert request.transport is not None
                request.transport.abort()
                raise web.HTTPServiceUnavailable()  # never reaches the client
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
            sent = 0
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                if corrupt and first and chunk:
                    chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
                first = False
                if is_blob and self.cut_blobs_after is not None \
                        and sent + len(chunk) > self.cut_blobs_after:
                    await response.write(chunk[: self.cut_blobs_after - sent])
                    assert request.transport is not None
                    request.transport.abort()
                    return response
                sent += len(chunk)
                await response.write(chunk)
                if is_blob and self.throttle:
                    await asyncio.sleep(len(chunk) / self.throttle)
            await response.write_eof()
            return response
