"""Online garbage collection over the API: what goes, what stays, and what a dry run says.

The collector runs with a clock one day ahead so that every row is past its grace period,
except where a test checks the grace period itself.
"""

from __future__ import annotations

import json
import time

from registry import keys
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.services.gc import GarbageCollector, GcOptions
from registry.storage.driver.base import PathNotFoundError
from registry.storage.paths import blob_path, trash_path
from tests.api.conftest import push_blob, push_image, sha256

DAY = 24 * 3600.0


def collector(client, ahead: float = DAY) -> GarbageCollector:
    app = client.server.app
    return GarbageCollector(app[keys.DRIVER], app[keys.ENGINE], clock=lambda: time.time() + ahead)


async def status(client, path: str) -> int:
    return (await client.head(path)).status


async def test_untagged_manifest_and_its_own_blobs_go(client):
    old = await push_image(client, "gc/app", "latest", seed="old")
    new = await push_image(client, "gc/app", "latest", seed="new")
    shared = await push_blob(client, "gc/app", b"shared by nobody")

    dry = await collector(client).run(GcOptions(dry_run=True))
    assert [m.digest for m in dry.manifests] == [old.digest]
    dry_blobs = {b.digest for b in dry.blobs}
    assert dry_blobs == {sha256(old.config), *map(sha256, old.layers), shared}
    assert dry.bytes_freed == len(old.config) + sum(map(len, old.layers)) + len(b"shared by nobody")
    assert await status(client, f"/v2/gc/app/manifests/{old.digest}") == 200  # dry run

    report = await collector(client).run()
    assert {b.digest for b in report.blobs} == dry_blobs
    assert await status(client, f"/v2/gc/app/manifests/{old.digest}") == 404
    for blob in [old.config, *old.layers]:
        assert await status(client, f"/v2/gc/app/blobs/{sha256(blob)}") == 404
        with_bytes = client.server.app[keys.DRIVER]
        try:
            await with_bytes.stat(blob_path(Digest.parse(sha256(blob))))
            raise AssertionError("bytes of a collected blob are still stored")
        except PathNotFoundError:
            pass
    resp = await client.get("/v2/gc/app/manifests/latest", headers={"Accept": mt.OCI_MANIFEST})
    assert await resp.read() == new.payload
    for blob in [new.config, *new.layers]:
        resp = await client.get(f"/v2/gc/app/blobs/{sha256(blob)}")
        assert await resp.read() == blob
    assert (await collector(client).run()).manifests == []


async def test_blob_shared_with_a_kept_image_stays(client):
    kept = await push_image(client, "gc/one", "v1", seed="same")
    await push_image(client, "gc/two", "v1", seed="same")
    await client.delete("/v2/gc/two/manifests/v1")
    await collector(client).run()
    for blob in [kept.config, *kept.layers]:
        resp = await client.get(f"/v2/gc/one/blobs/{sha256(blob)}")
        assert await resp.read() == blob
        assert await status(client, f"/v2/gc/two/blobs/{sha256(blob)}") == 404


async def _put_manifest(client, name: str, reference: str, doc: dict, media_type: str) -> str:
    payload = json.dumps(doc).encode()
    resp = await client.put(
        f"/v2/{name}/manifests/{reference}", data=payload, headers={"Content-Type": media_type}
    )
    assert resp.status == 201, await resp.text()
    return sha256(payload)


async def test_index_children_and_referrers_follow_what_keeps_them(client):
    name = "gc/multi"
    child = await push_image(client, name, None, seed="child")
    index = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {"mediaType": mt.OCI_MANIFEST, "digest": child.digest, "size": len(child.payload)}
        ],
    }
    await _put_manifest(client, name, "multi", index, mt.OCI_INDEX)
    subject = {"mediaType": mt.OCI_MANIFEST, "digest": child.digest, "size": len(child.payload)}
    signature = await push_image(client, name, None, seed="sig", subject=subject)
    ghost = {"mediaType": mt.OCI_MANIFEST, "digest": sha256(b"never pushed"), "size": 12}
    dangling = await push_image(client, name, None, seed="dangling", subject=ghost)

    report = await collector(client).run()
    assert [m.digest for m in report.manifests] == [dangling.digest]
    assert await status(client, f"/v2/{name}/manifests/{child.digest}") == 200
    assert await status(client, f"/v2/{name}/manifests/{signature.digest}") == 200

    await client.delete(f"/v2/{name}/manifests/multi")
    report = await collector(client).run()
    assert {m.digest for m in report.manifests} >= {child.digest, signature.digest}
    assert await status(client, f"/v2/{name}/manifests/{child.digest}") == 404
    assert await status(client, f"/v2/{name}/manifests/{signature.digest}") == 404


async def test_keep_untagged_collects_only_unreferenced_blobs(client):
    old = await push_image(client, "gc/keep", "t", seed="a")
    await push_image(client, "gc/keep", "t", seed="b")
    loose = await push_blob(client, "gc/keep", b"loose blob")
    report = await collector(client).run(GcOptions(delete_untagged=False))
    assert report.manifests == []
    assert [b.digest for b in report.blobs] == [loose]
    assert await status(client, f"/v2/gc/keep/manifests/{old.digest}") == 200


async def test_recent_blob_survives_the_grace_period(client):
    digest = await push_blob(client, "gc/grace", b"uploaded, manifest not yet pushed")
    report = await collector(client, ahead=0).run(GcOptions(grace=3600))
    assert report.blobs == []
    assert await status(client, f"/v2/gc/grace/blobs/{digest}") == 200
    await collector(client).run(GcOptions(grace=3600))
    assert await status(client, f"/v2/gc/grace/blobs/{digest}") == 404


async def test_blob_pushed_again_while_collected_is_restored(client):
    """Bytes parked in trash/ go back when the row reappears (a push raced the collector)."""
    data = b"pushed again"
    digest = await push_blob(client, "gc/race", data)
    driver = client.server.app[keys.DRIVER]
    parsed = Digest.parse(digest)
    await driver.move(blob_path(parsed), trash_path(parsed))  # as a collector would
    await collector(client, ahead=0).run()  # settles trash left by an interrupted run
    resp = await client.get(f"/v2/gc/race/blobs/{digest}")
    assert await resp.read() == data
    with_trash = await driver.list("trash/sha256") if await _exists(driver, "trash") else []
    assert with_trash == []


async def _exists(driver, path: str) -> bool:
    try:
        await driver.stat(path)
    except PathNotFoundError:
        return False
    return True


async def test_stale_upload_sessions_expire(client):
    resp = await client.post("/v2/gc/uploads/blobs/uploads/")
    location = resp.headers["Location"]
    await client.patch(location, data=b"partial", headers={"Content-Range": "0-6"})
    report = await collector(client, ahead=0).run()
    assert report.uploads == []
    report = await collector(client, ahead=8 * DAY).run()
    assert len(report.uploads) == 1
    assert (await client.get(location)).status == 404
