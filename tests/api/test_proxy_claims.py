"""Single-flight of a missing blob's fetch across two hub apps over one database and store, as
two hub processes (`--workers`, replicas) are: one upstream fetch, the other app's requests
served from the store once it landed; a failed fetch or a dead holder's lapsed claim hands the
fetch over. Real processes are in tests/integration/test_proxy_replicas.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from aiohttp import web

from registry import keys
from registry.app import create_app
from registry.db import retention_queries
from registry.proxy.config import ProxyNamespace
from registry.proxy.fetchclaims import CLAIM_TTL
from tests.api.test_proxy_cache import LAYER, Upstream, sha256

DEADLINE = 30.0  # seconds a step may take before the test gives up
BLOB = f"/v2/up/team/app/blobs/{sha256(LAYER)}"


class HeldUpstream(Upstream):
    """The stub, holding each authorised blob GET until `release` is set (it is at first)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.release.set()
        self.arrived = 0  # blob GETs received, held or not

    async def registry(self, request: web.Request) -> web.StreamResponse:
        authorised = "Authorization" in request.headers  # not the 401 before the token
        if request.method == "GET" and "/blobs/" in request.path and authorised:
            self.arrived += 1
            await self.release.wait()
        return await super().registry(request)


@pytest.fixture
async def upstream(aiohttp_server) -> HeldUpstream:
    stub = HeldUpstream()
    stub.server = await aiohttp_server(stub.app())
    return stub


@pytest.fixture
async def two_hubs(aiohttp_client, settings, upstream):
    """Two hub apps sharing the settings: one database, one store, two `BlobFetcher`s."""
    assert upstream.server is not None
    url = str(upstream.server.make_url("")).rstrip("/")
    shared = replace(settings, proxy_namespaces=(ProxyNamespace("up", url),))
    return [await aiohttp_client(create_app(shared)) for _ in range(2)]


async def wait_for(condition) -> None:
    async with asyncio.timeout(DEADLINE):
        while not condition():
            await asyncio.sleep(0.01)


def count_waits(client) -> list[str]:
    """The claims a hub app found held by another while waiting (one entry per look)."""
    claims = client.server.app[keys.PROXY_CLAIMS]
    looks: list[str] = []
    held = claims._held

    async def counted(name: str) -> bool:
        found = await held(name)
        if found:
            looks.append(name)
        return found

    claims._held = counted
    return looks


async def body(client) -> bytes:
    response = await client.get(BLOB)
    assert response.status == 200
    return await response.read()


async def test_the_other_process_waits_for_the_one_fetch_and_serves_the_stored_blob(
    two_hubs, upstream
):
    first, second = two_hubs
    looks = count_waits(second)
    upstream.release.clear()
    leading = asyncio.create_task(body(first))
    await wait_for(lambda: upstream.arrived)  # the first app's fetch asked the upstream
    waiting = [asyncio.create_task(body(hub)) for hub in (second, second, first)]
    await wait_for(lambda: len(looks) >= 2)  # the second app's requests wait for the claim
    assert upstream.arrived == 1
    upstream.release.set()
    async with asyncio.timeout(DEADLINE):
        bodies = await asyncio.gather(leading, *waiting)
    assert bodies == [LAYER] * 4
    assert upstream.blob_gets == [sha256(LAYER)]


async def test_a_failed_fetch_hands_the_blob_to_the_next_request(two_hubs, upstream):
    first, second = two_hubs
    looks = count_waits(second)
    upstream.corrupt = True  # the first fetch fails its digest check: nothing is stored
    upstream.release.clear()
    leading = asyncio.create_task(first.get(BLOB))
    await wait_for(lambda: upstream.arrived)
    waiting = asyncio.create_task(body(second))
    await wait_for(lambda: looks)
    upstream.release.set()
    cut = await leading
    with pytest.raises(Exception):  # noqa: B017 - the body ends before Content-Length
        await cut.read()
    upstream.corrupt = False
    async with asyncio.timeout(DEADLINE):
        assert await waiting == LAYER  # it took the claim given back and fetched itself
    assert upstream.blob_gets == [sha256(LAYER)] * 2


async def test_a_dead_holders_claim_lapses_and_another_process_fetches(two_hubs, upstream):
    first, _ = two_hubs
    looks = count_waits(first)
    claims = first.server.app[keys.PROXY_CLAIMS]
    async with first.server.app[keys.ENGINE].begin() as conn:  # taken by a process now gone
        assert await retention_queries.acquire_lease(
            conn, f"proxy-blob:{sha256(LAYER)}", "dead", claims.clock(), CLAIM_TTL
        )
    waiting = asyncio.create_task(body(first))
    await wait_for(lambda: len(looks) >= 3)  # it waits; nothing is fetched meanwhile
    assert not waiting.done() and upstream.arrived == 0
    now = claims.clock
    claims.clock = lambda: now() + CLAIM_TTL + timedelta(seconds=1)
    async with asyncio.timeout(DEADLINE):
        assert await waiting == LAYER
    assert upstream.blob_gets == [sha256(LAYER)]
