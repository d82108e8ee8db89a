"""Online GC under load: 20 clients push overlapping images through two replicas while the
collector runs again and again; afterwards every tag pulls back byte-identical and no blob
any manifest references is missing.

Each client re-tags its own tag every round, so earlier rounds turn into garbage while pushes
go on; images share base layers within and across repositories. Clients behave like docker:
HEAD a blob first and skip the upload when the repository has it. The replicas are told the
same (short) grace period as the collector, so a HEAD refreshes a stale link.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import time
from dataclasses import dataclass

import aiohttp
import pytest
from sqlalchemy import select

from registry.app import storage_driver
from registry.db.engine import create_engine
from registry.db.tables import manifest_references, manifests, repositories
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.services.gc import GarbageCollector, GcOptions
from registry.settings import Settings
from registry.storage.paths import blob_path
from tests.support.replicas import start_replica

pytestmark = pytest.mark.slow

CLIENTS = 20
ROUNDS = 4
GRACE = 15.0  # seconds; longer than one round of pushes takes on a loaded 2-core machine
BASE_LAYERS = [os.urandom(48 * 1024) for _ in range(6)]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Pushed:
    repository: str
    tag: str
    manifest: bytes
    blobs: list[bytes]


def build(client: int, round_: int) -> tuple[bytes, list[bytes]]:
    rng = random.Random(client * 1000 + round_)
    layers = [*rng.sample(BASE_LAYERS, 2), os.urandom(rng.randint(1, 64) * 1024)]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha256(x) for x in layers]},
                         "client": client, "round": round_}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": mt.OCI_LAYER_GZIP, "digest": sha256(x), "size": len(x)}
                   for x in layers],
    }).encode()
    return manifest, [config, *layers]


async def upload(session: aiohttp.ClientSession, base: str, repo: str, data: bytes,
                 chunked: bool) -> None:
    digest = sha256(data)
    async with session.head(f"{base}/v2/{repo}/blobs/{digest}") as resp:
        if resp.status == 200:
            return
    if not chunked:
        async with session.post(f"{base}/v2/{repo}/blobs/uploads/?digest={digest}",
                                data=data) as resp:
            assert resp.status == 201, await resp.text()
        return
    async with session.post(f"{base}/v2/{repo}/blobs/uploads/") as resp:
        assert resp.status == 202, await resp.text()
        location = resp.headers["Location"]
    half = len(data) // 2
    async with session.patch(f"{base}{location}", data=data[:half],
                             headers={"Content-Range": f"0-{half - 1}"}) as resp:
        assert resp.status == 202, await resp.text()
        location = resp.headers["Location"]
    separator = "&" if "?" in location else "?"
    async with session.put(f"{base}{location}{separator}digest={digest}",
                           data=data[half:]) as resp:
        assert resp.status == 201, await resp.text()


async def push_rounds(client: int, bases: list[str]) -> Pushed:
    repo, tag = f"conc/r{client % 4}", f"c{client}"
    base = bases[client % 2]
    async with aiohttp.ClientSession() as session:
        for round_ in range(ROUNDS):
            manifest, blobs = build(client, round_)
            for i, blob in enumerate(blobs):
                await upload(session, base, repo, blob, chunked=(client + i) % 3 == 0)
            async with session.put(f"{base}/v2/{repo}/manifests/{tag}", data=manifest,
                                   headers={"Content-Type": mt.OCI_MANIFEST}) as resp:
                assert resp.status == 201, f"client {client} round {round_}: {await resp.text()}"
            await asyncio.sleep(random.uniform(4.0, 6.0))
    return Pushed(repo, tag, manifest, blobs)


async def collect_until(done: asyncio.Event, collector: GarbageCollector) -> list:
    reports = []
    while not done.is_set():
        reports.append(await collector.run(GcOptions(grace=GRACE)))
        await asyncio.sleep(0.2)
    return reports


async def verify(bases: list[str], pushed: list[Pushed]) -> None:
    async with aiohttp.ClientSession() as session:
        for item in pushed:
            for base in bases:
                async with session.get(f"{base}/v2/{item.repository}/manifests/{item.tag}",
                                       headers={"Accept": mt.OCI_MANIFEST}) as resp:
                    assert await resp.read() == item.manifest
                for blob in item.blobs:
                    async with session.get(
                        f"{base}/v2/{item.repository}/blobs/{sha256(blob)}"
                    ) as resp:
                        assert resp.status == 200
                        assert await resp.read() == blob


async def referenced_blobs_present(engine, driver) -> None:
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(repositories.c.name, manifest_references.c.digest)
            .select_from(manifest_references
                         .join(manifests, manifests.c.id == manifest_references.c.manifest_id)
                         .join(repositories, repositories.c.id == manifests.c.repository_id))
            .where(manifest_references.c.kind == "blob")
        )).all()
    assert rows
    for _, digest in rows:
        await driver.stat(blob_path(Digest.parse(digest)))  # raises when missing


async def test_gc_again_and_again_while_twenty_clients_push(hub_factory, backend):
    env = {"BERTH_GC_GRACE": str(GRACE)}
    replicas = [start_replica(hub_factory, backend, env=env) for _ in range(2)]
    bases = [replica.url for replica in replicas]
    settings = Settings(
        database_url=backend["database"], storage_url=backend["storage"],
        s3_endpoint_url=backend["env"]["BERTH_S3_ENDPOINT_URL"], s3_path_style=True,
    ).resolve()
    engine = create_engine(settings.database_url or "")
    driver = storage_driver(settings)
    try:
        done = asyncio.Event()
        gc_task = asyncio.create_task(collect_until(done, GarbageCollector(driver, engine)))
        try:
            pushed = await asyncio.gather(*(push_rounds(k, bases) for k in range(CLIENTS)))
        finally:
            done.set()
            reports = await gc_task
        removed = sum(len(r.manifests) for r in reports)
        freed = sum(len(r.blobs) for r in reports)
        assert len(reports) > 3 and removed > 0 and freed > 0, (len(reports), removed, freed)
        await verify(bases, pushed)
        await referenced_blobs_present(engine, driver)

        # Everything left over is garbage now: collect it all, and nothing tagged suffers.
        ahead = GarbageCollector(driver, engine, clock=lambda: time.time() + 3600)
        final = await ahead.run(GcOptions(grace=GRACE))
        assert final.manifests or final.blobs or removed
        await verify(bases, pushed)
        await referenced_blobs_present(engine, driver)
    finally:
        await engine.dispose()
