"""The pull-through cache in process, on both backends, against a small upstream stub.

The stub speaks Docker's token protocol with anonymous tokens (a 401 challenge naming realm,
service and scope; `/token` issues a token to anyone) and counts what it serves, so the tests
see the hub's upstream traffic. Distribution as the upstream is in tests/integration.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from registry.app import create_app
from registry.oci import mediatypes as mt
from registry.proxy.config import ProxyNamespace


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


LAYER = secrets.token_bytes(300_000)
CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
MANIFEST = json.dumps({
    "schemaVersion": 2,
    "mediaType": mt.OCI_MANIFEST,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": sha256(CONFIG), "size": len(CONFIG)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": sha256(LAYER), "size": len(LAYER)}],
}).encode()


INDEX = json.dumps({
    "schemaVersion": 2,
    "mediaType": mt.OCI_INDEX,
    "manifests": [{"mediaType": mt.OCI_MANIFEST, "digest": sha256(MANIFEST),
                   "size": len(MANIFEST), "platform": {"os": "linux", "architecture": "amd64"}}],
}).encode()


class Upstream:
    """A registry with one image, `team/app:v1`, behind anonymous Bearer tokens."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
        self.blob_gets: list[str] = []
        self.corrupt = False
        self.gate: asyncio.Event | None = None  # when set: blob bodies stop half-way until it is
        self.chunked = False  # blob bodies without Content-Length
        self.server: TestServer | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/token", self.token)
        app.router.add_route("*", "/v2/{tail:.*}", self.registry)
        return app

    async def token(self, request: web.Request) -> web.Response:
        self.token_requests.append(dict(request.query))
        token = secrets.token_hex(8)
        self.tokens.add(token)
        return web.json_response({"token": token, "expires_in": 300})

    async def registry(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.tokens:
            assert self.server is not None
            realm = str(self.server.make_url("/token"))
            challenge = (f'Bearer realm="{realm}",service="stub-registry",'
                         f'scope="repository:team/app:pull"')
            return web.json_response({"errors": [{"code": "UNAUTHORIZED"}]}, status=401,
                                     headers={"WWW-Authenticate": challenge})
        path = request.path
        if path in ("/v2/team/app/manifests/v1", f"/v2/team/app/manifests/{sha256(MANIFEST)}"):
            headers = {"Docker-Content-Digest": sha256(MANIFEST), "Content-Type": mt.OCI_MANIFEST}
            return web.Response(body=MANIFEST, headers=headers)
        if path in ("/v2/team/app/manifests/multi", f"/v2/team/app/manifests/{sha256(INDEX)}"):
            headers = {"Docker-Content-Digest": sha256(INDEX), "Content-Type": mt.OCI_INDEX}
            return web.Response(body=INDEX, headers=headers)
        for blob in (LAYER, CONFIG):
            if path == f"/v2/team/app/blobs/{sha256(blob)}":
                if request.method == "GET":
                    self.blob_gets.append(sha256(blob))
                body = bytes([blob[0] ^ 0xFF]) + blob[1:] if self.corrupt else blob
                if request.method == "GET" and (self.gate is not None or self.chunked):
                    return await self.send_gated(request, body, self.gate, self.chunked)
                return web.Response(body=body, content_type="application/octet-stream")
        return web.json_response({"errors": [{"code": "MANIFEST_UNKNOWN"}]}, status=404)


    @staticmethod
    async def send_gated(request: web.Request, body: bytes, gate: asyncio.Event | None,
                         chunked: bool) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        if chunked:
            response.enable_chunked_encoding()
        else:
            response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        if gate is not None:
            await gate.wait()
        await response.write(body[len(body) // 2:])
        await response.write_eof()
        return response


@pytest.fixture
async def upstream(aiohttp_server) -> Upstream:
    stub = Upstream()
    stub.server = await aiohttp_server(stub.app())
    return stub


@pytest.fixture
async def proxy_client(aiohttp_client, settings, upstream):
    assert upstream.server is not None
    url = str(upstream.server.make_url("")).rstrip("/")
    proxied = replace(settings, proxy_namespaces=(ProxyNamespace("up", url),))
    return await aiohttp_client(create_app(proxied))


async def test_anonymous_token_then_pull_caches_manifest_and_blobs(proxy_client, upstream):
    response = await proxy_client.get("/v2/up/team/app/manifests/v1",
                                      headers={"Accept": mt.OCI_MANIFEST})
    assert response.status == 200
    assert await response.read() == MANIFEST
    assert response.headers["Docker-Content-Digest"] == sha256(MANIFEST)
    assert upstream.token_requests[0] == {"scope": "repository:team/app:pull",
                                          "service": "stub-registry"}
    for blob in (CONFIG, LAYER):
        got = await proxy_client.get(f"/v2/up/team/app/blobs/{sha256(blob)}")
        assert got.status == 200 and await got.read() == blob
        again = await proxy_client.get(f"/v2/up/team/app/blobs/{sha256(blob)}",
                                       headers={"Range": "bytes=1-3"})
        assert again.status == 206 and await again.read() == blob[1:4]
    assert sorted(upstream.blob_gets) == sorted([sha256(CONFIG), sha256(LAYER)])
    # The token is reused while it lasts.
    assert len(upstream.token_requests) == 1
    # Upstream traffic is counted per namespace, method and answer.
    metrics = await (await proxy_client.get("/metrics")).text()
    blob_gets = ('berth_proxy_upstream_requests_total{method="GET",namespace="up",'
                 'status="200"} 3')  # the manifest and two blobs
    assert blob_gets in metrics
    assert 'method="HEAD",namespace="up",status="401"} 1' in metrics
    # Cached content is listed like pushed content.
    tags = await proxy_client.get("/v2/up/team/app/tags/list")
    assert (await tags.json())["tags"] == ["v1"]


async def test_a_corrupt_upstream_blob_is_cut_short_and_never_stored(proxy_client, upstream):
    upstream.corrupt = True
    url = f"/v2/up/team/app/blobs/{sha256(LAYER)}"
    response = await proxy_client.get(url)
    assert response.status == 200
    with pytest.raises(Exception):  # noqa: B017 - the body ends before Content-Length
        await response.read()
    absent = await proxy_client.head(url)
    assert absent.status == 200  # the upstream's HEAD: nothing cached
    upstream.corrupt = False
    whole = await proxy_client.get(url)
    assert await whole.read() == LAYER
    assert upstream.blob_gets == [sha256(LAYER)] * 2  # the second, whole, is stored


async def test_clients_joining_a_fetch_get_its_bytes_from_one_upstream_get(proxy_client,
                                                                        upstream):
    # The upstream stops half-way until every client has joined the fetch (their answers
    # started); each then reads the whole blob from the fetch's file (the store's own on the
    # filesystem, a spill file beside an object store).
    upstream.gate = asyncio.Event()
    url = f"/v2/up/team/app/blobs/{sha256(LAYER)}"
    responses = [await proxy_client.get(url) for _ in range(5)]
    assert [response.status for response in responses] == [200] * 5
    upstream.gate.set()
    bodies = await asyncio.gather(*(response.read() for response in responses))
    assert bodies == [LAYER] * 5
    assert upstream.blob_gets == [sha256(LAYER)]
    stored = await proxy_client.get(url)
    assert await stored.read() == LAYER
    assert upstream.blob_gets == [sha256(LAYER)]


async def test_a_blob_the_upstream_sends_chunked_reaches_the_client_whole(proxy_client,
                                                                        upstream):
    # Without a length from the upstream the hub's answer is chunked too: its bytes go out
    # framed by aiohttp, never raw from the fetch's file.
    upstream.chunked = True
    response = await proxy_client.get(f"/v2/up/team/app/blobs/{sha256(LAYER)}")
    assert response.status == 200
    assert "Content-Length" not in response.headers
    assert await response.read() == LAYER


async def test_unknown_upstream_content_is_the_specs_unknown_error(proxy_client, upstream):
    response = await proxy_client.get("/v2/up/team/app/manifests/nope")
    assert response.status == 404
    [error] = (await response.json())["errors"]
    assert error["code"] == "MANIFEST_UNKNOWN" and "upstream" in error["message"]
    blob = await proxy_client.get(f"/v2/up/team/app/blobs/{sha256(b'missing')}")
    assert blob.status == 404
    assert (await blob.json())["errors"][0]["code"] == "BLOB_UNKNOWN"


@pytest.fixture
async def mirror_client(aiohttp_client, settings, upstream):
    assert upstream.server is not None
    url = str(upstream.server.make_url("")).rstrip("/")
    mirrored = replace(settings, proxy_namespaces=(ProxyNamespace("up", url),),
                       proxy_mirror="up")
    return await aiohttp_client(create_app(mirrored))


async def test_registry_mirror_requests_without_a_prefix_go_to_the_mirror(mirror_client,
                                                                         upstream):
    # As dockerd's registry-mirrors ask: the upstream's own name, no proxy namespace.
    response = await mirror_client.get("/v2/team/app/manifests/v1",
                                       headers={"Accept": mt.OCI_MANIFEST})
    assert response.status == 200 and await response.read() == MANIFEST
    blob = await mirror_client.get(f"/v2/team/app/blobs/{sha256(LAYER)}")
    assert await blob.read() == LAYER
    # Cached under the mirror namespace, and served from there without the upstream.
    assert upstream.blob_gets == [sha256(LAYER)]
    cached = await mirror_client.get(f"/v2/up/team/app/blobs/{sha256(LAYER)}")
    assert await cached.read() == LAYER and upstream.blob_gets == [sha256(LAYER)]
    # A repository the hub has is served as it is, and pushes are not redirected.
    start = await mirror_client.post(f"/v2/mine/app/blobs/uploads/?digest={sha256(CONFIG)}",
                                     data=CONFIG)
    assert start.status == 201
    pushed = await mirror_client.put("/v2/mine/app/manifests/cfg",
                                     data=json.dumps({
                                         "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
                                         "config": {"mediaType": "application/json",
                                                    "digest": sha256(CONFIG),
                                                    "size": len(CONFIG)},
                                         "layers": []}).encode(),
                                     headers={"Content-Type": mt.OCI_MANIFEST})
    assert pushed.status == 201
    local = await mirror_client.get("/v2/mine/app/manifests/cfg")
    assert local.status == 200
    assert (await mirror_client.get("/v2/mine/app/tags/list")).status == 200


async def test_stored_blobs_are_shared_only_when_the_upstream_has_them(proxy_client, upstream):
    private = secrets.token_bytes(1000)
    for blob in (private, LAYER):
        pushed = await proxy_client.post(f"/v2/mine/app/blobs/uploads/?digest={sha256(blob)}",
                                         data=blob)
        assert pushed.status == 201
    # Knowing the digest of another repository's blob opens nothing through a proxy namespace.
    leaked = await proxy_client.get(f"/v2/up/team/app/blobs/{sha256(private)}")
    assert leaked.status == 404
    assert (await leaked.json())["errors"][0]["code"] == "BLOB_UNKNOWN"
    # A blob the upstream has too is linked from the hub's storage, not fetched again.
    shared = await proxy_client.get(f"/v2/up/team/app/blobs/{sha256(LAYER)}")
    assert shared.status == 200 and await shared.read() == LAYER
    assert upstream.blob_gets == []


async def test_a_client_that_cannot_read_indexes_gets_the_cached_amd64_manifest(proxy_client):
    index = await proxy_client.get("/v2/up/team/app/manifests/multi",
                                   headers={"Accept": mt.OCI_INDEX})
    assert index.status == 200 and await index.read() == INDEX
    old_client = await proxy_client.get("/v2/up/team/app/manifests/multi",
                                        headers={"Accept": mt.OCI_MANIFEST})
    assert old_client.status == 200 and await old_client.read() == MANIFEST
