"""Retention over the API, on SQLite and PostgreSQL: a dry run and a real run agree, and
exactly the tags the policy keeps remain; the garbage collector then reclaims the rest."""

from __future__ import annotations

import time

from registry import keys
from registry.oci import mediatypes as mt
from registry.services.gc import GarbageCollector
from tests.api.conftest import error_code, image_manifest, push_blob, push_image, sha256

REPO = "team/app"
RETENTION = f"/api/v1/repositories/{REPO}/retention"

# 500 tags: pushed in this order, so the newest are the last ones.
TAGS = (
    [f"build-{i:03d}" for i in range(400)]
    + [f"release-{i}" for i in range(40)]
    + [f"tmp-{i:02d}" for i in range(40)]
    + [f"dev-{i:02d}" for i in range(20)]
)
POLICY = {
    "keep_newest": 30,
    "keep_pulled_days": 7,
    "keep_matching": ["release-*"],
    "keep_not_matching": ["build-*", "tmp-*"],
}
PULLED = ["build-010", "build-020", "tmp-05"]
IMMUTABLE = "build-00[0-4]"


async def _push_tags(client) -> dict[str, str]:
    """Push one image under every tag, each a manifest of its own; tag -> digest."""
    config = b'{"architecture": "amd64", "os": "linux"}'
    layer = b"retention layer" * 10
    await push_blob(client, REPO, config)
    await push_blob(client, REPO, layer)
    digests = {}
    for tag in TAGS:
        payload = image_manifest(config, [layer], annotations={"tag": tag})
        resp = await client.put(
            f"/v2/{REPO}/manifests/{tag}", data=payload, headers={"Content-Type": mt.OCI_MANIFEST}
        )
        assert resp.status == 201, await resp.text()
        digests[tag] = sha256(payload)
    return digests


async def _tags(client) -> list[str]:
    resp = await client.get(f"/v2/{REPO}/tags/list?n=1000")
    return (await resp.json())["tags"]


async def test_dry_run_and_real_run_agree_on_500_tags(client):
    digests = await _push_tags(client)
    # Pulls by tag, and one by the digest a tag names.
    for reference in [*PULLED[:-1], digests[PULLED[-1]]]:
        resp = await client.get(
            f"/v2/{REPO}/manifests/{reference}", headers={"Accept": mt.OCI_MANIFEST}
        )
        assert resp.status == 200
    resp = await client.post(
        f"/api/v1/repositories/{REPO}/immutable-tags", json={"pattern": IMMUTABLE}
    )
    assert resp.status == 201
    resp = await client.put(RETENTION, json={"policy": POLICY})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["policy"] == POLICY

    expected_kept = (
        set(TAGS[-30:])
        | set(PULLED)
        | {t for t in TAGS if not t.startswith(("build-", "tmp-"))}
        | {f"build-00{i}" for i in range(5)}
    )
    expected_removed = sorted(set(TAGS) - expected_kept)
    assert len(expected_removed) == 500 - len(expected_kept) > 400

    resp = await client.post(f"{RETENTION}/runs", json={"dry_run": True})
    assert resp.status == 200, await resp.text()
    dry = await resp.json()
    assert dry["dry_run"] and dry["removed"] == expected_removed
    assert len(await _tags(client)) == 500  # a dry run removes nothing

    resp = await client.post(f"{RETENTION}/runs", json={"dry_run": False})
    assert resp.status == 201, await resp.text()
    real = await resp.json()
    assert real["removed"] == dry["removed"]
    assert real["kept"] == len(expected_kept)
    assert sorted(await _tags(client)) == sorted(expected_kept)

    history = (await (await client.get(f"{RETENTION}/runs")).json())["runs"]
    assert [(run["dry_run"], len(run["removed"])) for run in history] == [
        (False, len(expected_removed)),
        (True, len(expected_removed)),
    ]
    assert all(run["started_by"] == "-" for run in history)  # an open registry: no account

    # The manifests the removed tags named are untagged now: the collector takes them.
    app = client.server.app
    gone = digests[expected_removed[0]]
    collector = GarbageCollector(
        app[keys.DRIVER], app[keys.ENGINE], clock=lambda: time.time() + 86400
    )
    await collector.run()
    resp = await client.head(f"/v2/{REPO}/manifests/{gone}", headers={"Accept": mt.OCI_MANIFEST})
    assert resp.status == 404
    kept_digest = digests["release-1"]
    resp = await client.head(
        f"/v2/{REPO}/manifests/{kept_digest}", headers={"Accept": mt.OCI_MANIFEST}
    )
    assert resp.status == 200


async def test_a_repository_policy_is_shown_run_dry_by_default_and_removed(client):
    for seed, tag in enumerate(["a", "b", "c"]):
        await push_image(client, REPO, tag, seed=str(seed))
    resp = await client.post(f"{RETENTION}/runs", json={"dry_run": True})
    assert resp.status == 404 and await error_code(resp) == "NOT_FOUND"
    resp = await client.put(RETENTION, json={"policy": {"keep_newest": 1}})
    assert resp.status == 200
    shown = await (await client.get(RETENTION)).json()
    assert shown["scope"] == REPO and shown["policy"] == {"keep_newest": 1}
    run = await (await client.post(f"{RETENTION}/runs", json={})).json()
    assert run["dry_run"] and run["removed"] == ["a", "b"]
    assert sorted(await _tags(client)) == ["a", "b", "c"]
    resp = await client.put(RETENTION, json={"policy": None})
    assert (await (await client.get(RETENTION)).json())["policy"] is None


async def test_bad_policies_are_refused(client):
    await push_image(client, REPO, "v1")
    for policy in (
        {},
        {"keep_newest": -1},
        {"keep_newest": True},
        {"keep_matching": []},
        {"keep_matching": ["a/b"]},
        {"keep_everything": True},
        "keep",
    ):
        resp = await client.put(RETENTION, json={"policy": policy})
        assert resp.status == 400 and await error_code(resp) == "INVALID_REQUEST", policy
