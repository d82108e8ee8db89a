"""Cached content expires by last pull and the garbage collector reclaims it, on both backends.

Time moves forward by passing "now" to the expiry and a clock to the collector; the upstream
is the counting stub of tests/api/test_proxy_cache.py.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from registry import keys
from registry.app import create_app
from registry.db import retention_queries
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.proxy.config import ProxyNamespace
from registry.proxy.expiry import LEASE, LEASE_TTL, expire_cached, expire_once
from registry.services.gc import GarbageCollector, GcOptions
from registry.storage.driver.base import PathNotFoundError
from registry.storage.paths import blob_path
from tests.api.conftest import push_blob
from tests.api.test_proxy_cache import CONFIG, LAYER, MANIFEST, Upstream, sha256

DAY = 86400.0


@pytest.fixture
async def upstream(aiohttp_server) -> Upstream:
    stub = Upstream()
    stub.server = await aiohttp_server(stub.app())
    return stub


@pytest.fixture
async def proxy_client(aiohttp_client, settings, upstream):
    assert upstream.server is not None
    url = str(upstream.server.make_url("")).rstrip("/")
    namespace = ProxyNamespace("up", url, expire_days=7)
    return await aiohttp_client(create_app(replace(settings, proxy_namespaces=(namespace,))))


async def pull(client, repository: str = "up/team/app") -> None:
    """A client's pull of `v1`: the manifest by tag, then every blob to its last byte."""
    response = await client.get(f"/v2/{repository}/manifests/v1",
                                headers={"Accept": mt.OCI_MANIFEST})
    assert response.status == 200 and await response.read() == MANIFEST
    for blob in (CONFIG, LAYER):
        got = await client.get(f"/v2/{repository}/blobs/{sha256(blob)}")
        assert got.status == 200 and await got.read() == blob
        # Waits for the fetch's commit, so what follows sees the blob stored.
        assert (await client.head(f"/v2/{repository}/blobs/{sha256(blob)}")).status == 200


async def stored(client, blob: bytes) -> bool:
    try:
        await client.server.app[keys.DRIVER].stat(blob_path(Digest.parse(sha256(blob))))
    except PathNotFoundError:
        return False
    return True


async def expire_and_collect(client, days_ahead: float) -> list[str]:
    """Expiry, then a collection, both `days_ahead` days from now; the expired tags."""
    app = client.server.app
    await app[keys.PULLS].flush()
    now = datetime.now(UTC) + timedelta(days=days_ahead)
    expired = await expire_cached(app[keys.ENGINE], app[keys.SETTINGS].proxy_namespaces, now)
    await GarbageCollector(
        app[keys.DRIVER], app[keys.ENGINE], clock=lambda: time.time() + days_ahead * DAY
    ).run(GcOptions(drop_emptied=tuple(ns.name for ns in app[keys.SETTINGS].proxy_namespaces)))
    return [f"{tag.repository}:{tag.tag}" for tag in expired]


async def catalog(client) -> list[str]:
    return (await (await client.get("/v2/_catalog")).json())["repositories"]


async def searched(client, term: str) -> list[str]:
    found = await (await client.get(f"/v1/search?q={term}")).json()
    return [result["name"] for result in found["results"]]


async def test_an_unpulled_cached_tag_expires_and_its_blobs_are_reclaimed(proxy_client,
                                                                         upstream):
    await pull(proxy_client)
    assert await expire_and_collect(proxy_client, 6) == []  # pulled less than 7 days ago
    assert (await proxy_client.head(f"/v2/up/team/app/manifests/{sha256(MANIFEST)}")).status == 200
    assert await stored(proxy_client, LAYER)

    assert await expire_and_collect(proxy_client, 8) == ["up/team/app:v1"]
    assert await catalog(proxy_client) == []  # nothing left in it: the repository went too
    assert not await stored(proxy_client, LAYER) and not await stored(proxy_client, CONFIG)

    # The next pull fetches everything from the upstream again.
    await pull(proxy_client)
    assert sorted(upstream.blob_gets) == sorted([sha256(CONFIG), sha256(LAYER)] * 2)
    assert await stored(proxy_client, LAYER)
    assert await catalog(proxy_client) == ["up/team/app"]


async def test_a_blob_shared_with_a_pushed_repository_survives(proxy_client, upstream):
    own_config = json.dumps({"architecture": "amd64", "os": "linux", "mine": True}).encode()
    for blob in (own_config, LAYER):
        await push_blob(proxy_client, "mine/app", blob)
    own = json.dumps({
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": sha256(own_config),
                   "size": len(own_config)},
        "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": sha256(LAYER),
                    "size": len(LAYER)}],
    }).encode()
    pushed = await proxy_client.put("/v2/mine/app/manifests/v1", data=own,
                                    headers={"Content-Type": mt.OCI_MANIFEST})
    assert pushed.status == 201
    await pull(proxy_client)
    assert upstream.blob_gets == [sha256(CONFIG)]  # the layer was linked, not fetched

    # Pushed tags never expire, whatever their age; the proxy's does.
    assert await expire_and_collect(proxy_client, 30) == ["up/team/app:v1"]
    assert not await stored(proxy_client, CONFIG)
    assert await stored(proxy_client, LAYER)
    layer = await proxy_client.get(f"/v2/mine/app/blobs/{sha256(LAYER)}")
    assert layer.status == 200 and await layer.read() == LAYER
    assert (await proxy_client.get("/v2/mine/app/manifests/v1")).status == 200


async def test_only_cached_repositories_left_empty_leave_the_catalog_and_search(
    aiohttp_client, settings, upstream
):
    assert upstream.server is not None
    url = str(upstream.server.make_url("")).rstrip("/")
    namespaces = (ProxyNamespace("up", url, expire_days=7), ProxyNamespace("long", url))
    client = await aiohttp_client(create_app(replace(settings, proxy_namespaces=namespaces)))
    await pull(client)
    await pull(client, "long/team/app")  # a namespace whose cache does not expire
    await push_blob(client, "mine/app", CONFIG)  # a pushed repository, emptied below
    await push_blob(client, "mine/app", LAYER)
    pushed = await client.put("/v2/mine/app/manifests/v1", data=MANIFEST,
                              headers={"Content-Type": mt.OCI_MANIFEST})
    assert pushed.status == 201
    deleted = await client.delete(f"/v2/mine/app/manifests/{sha256(MANIFEST)}")
    assert deleted.status == 202
    assert await catalog(client) == ["long/team/app", "mine/app", "up/team/app"]
    assert "up/team/app" in await searched(client, "app")

    assert await expire_and_collect(client, 8) == ["up/team/app:v1"]
    # The pushed repository stays, empty, as in Distribution: its settings are its owner's.
    assert await catalog(client) == ["long/team/app", "mine/app"]
    assert "up/team/app" not in await searched(client, "app")
    assert "long/team/app" in await searched(client, "app")


async def test_one_replica_at_a_time_runs_the_scheduled_expiry(proxy_client):
    await pull(proxy_client)
    app = proxy_client.server.app
    engine, namespaces = app[keys.ENGINE], app[keys.SETTINGS].proxy_namespaces
    later = datetime.now(UTC) + timedelta(days=8)
    async with engine.begin() as conn:  # another replica is running it
        assert await retention_queries.acquire_lease(conn, LEASE, "other", later, LEASE_TTL)
    assert await expire_once(engine, namespaces, app[keys.PULLS], "this", later) is None
    assert (await proxy_client.head("/v2/up/team/app/manifests/v1")).status == 200
    async with engine.begin() as conn:
        await retention_queries.release_lease(conn, LEASE, "other", later)
    expired = await expire_once(engine, namespaces, app[keys.PULLS], "this", later)
    assert [tag.tag for tag in expired or []] == ["v1"]
