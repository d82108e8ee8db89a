"""Storage quotas of namespaces over the API, on SQLite and on PostgreSQL.

A quota counts the distinct blobs the namespace's manifests reference plus the manifests' own
bytes; a manifest PUT over it is refused with DENIED and leaves nothing behind; the usage drops
once deleted tags' manifests are collected; admins set quotas, a namespace's managers see them;
concurrent pushes into a nearly full namespace never take it past its limit.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass

from sqlalchemy import text

from registry import keys
from registry.cli.main import build_parser
from registry.db import queries, quota_queries
from registry.db.engine import create_engine
from registry.hub.sizes import format_size
from registry.oci import mediatypes as mt
from registry.services.gc import GarbageCollector, GcOptions
from tests.api.conftest import image_manifest, sha256
from tests.api.hub.conftest import ADMIN, Hub, empty_tables

QUOTA = "/api/v1/namespaces/{}/quota"


@dataclass
class Image:
    payload: bytes
    blobs: list[bytes]

    @property
    def size(self) -> int:
        """What the image adds to a namespace that holds none of it."""
        return len(self.payload) + sum(map(len, self.blobs))


async def upload(
    hub: Hub, name: str, headers: dict[str, str], seed: str, size: int = 3000
) -> Image:
    """Upload a config and two layers of about `size` bytes each (unique to `seed`)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layers = [(f"{seed}-{i}-".encode() * size)[:size] for i in range(2)]
    for blob in [config, *layers]:
        resp = await hub.client.post(
            f"/v2/{name}/blobs/uploads/?digest={sha256(blob)}", data=blob, headers=headers
        )
        assert resp.status == 201, await resp.text()
    return Image(image_manifest(config, layers), [config, *layers])


async def put_manifest(hub: Hub, name: str, tag: str, image: Image, headers: dict[str, str]):
    return await hub.client.put(
        f"/v2/{name}/manifests/{tag}",
        data=image.payload,
        headers={**headers, "Content-Type": mt.OCI_MANIFEST},
    )


async def quota(hub: Hub, namespace: str, headers: dict[str, str]) -> dict:
    resp = await hub.client.get(QUOTA.format(namespace), headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def set_quota(hub: Hub, namespace: str, limit: int | None) -> dict:
    resp = await hub.client.put(QUOTA.format(namespace), json={"limit_bytes": limit}, headers=ADMIN)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def tag_status(hub: Hub, name: str, tag: str, headers: dict[str, str]) -> int:
    resp = await hub.client.get(
        f"/v2/{name}/manifests/{tag}", headers={**headers, "Accept": mt.OCI_MANIFEST}
    )
    return resp.status


async def test_a_push_over_the_quota_is_refused_and_usage_follows_deletes(hub):
    alice = await hub.add_user("alice")
    first = await upload(hub, "alice/app", alice, "one")
    assert (await quota(hub, "alice", alice)) == {
        "namespace": "alice",
        "limit_bytes": None,
        "used_bytes": 0,  # uploaded blobs count once a manifest names them
    }
    assert (await put_manifest(hub, "alice/app", "v1", first, alice)).status == 201
    # The same layers in another repository of the namespace count once.
    await upload(hub, "alice/other", alice, "one")
    assert (await put_manifest(hub, "alice/other", "v1", first, alice)).status == 201
    assert (await quota(hub, "alice", alice))["used_bytes"] == first.size

    limit = first.size + 1000
    assert await set_quota(hub, "alice", limit) == {
        "namespace": "alice",
        "limit_bytes": limit,
        "used_bytes": first.size,
    }
    second = await upload(hub, "alice/app", alice, "two")
    refused = await put_manifest(hub, "alice/app", "v2", second, alice)
    assert refused.status == 403
    error = (await refused.json())["errors"][0]
    assert error["code"] == "DENIED"
    would = first.size + second.size
    assert re.fullmatch(
        r"quota exceeded: namespace alice would use [0-9.]+ KiB of its [0-9.]+ KiB quota",
        error["message"],
    ), error["message"]
    assert f"{would / 1024:.1f}".removesuffix(".0") + " KiB" in error["message"]
    assert error["detail"]["limit_bytes"] == limit
    assert error["detail"]["used_bytes"] == first.size
    # Nothing of the refused push stays: no tag, no manifest by digest, no usage.
    assert await tag_status(hub, "alice/app", "v2", alice) == 404
    assert await tag_status(hub, "alice/app", sha256(second.payload), alice) == 404
    assert (await quota(hub, "alice", alice))["used_bytes"] == first.size
    # Pushing what the namespace already stores adds nothing and is never refused.
    assert (await put_manifest(hub, "alice/app", "again", first, alice)).status == 201
    assert await set_quota(hub, "alice", 10) == {
        "namespace": "alice",
        "limit_bytes": 10,
        "used_bytes": first.size,
    }
    assert (await put_manifest(hub, "alice/app", "once-more", first, alice)).status == 201

    # Deleting the tags leaves untagged manifests, which count until the collector takes them.
    for name, tag in [
        ("alice/app", "v1"),
        ("alice/app", "again"),
        ("alice/app", "once-more"),
        ("alice/other", "v1"),
    ]:
        resp = await hub.client.delete(f"/v2/{name}/manifests/{tag}", headers=alice)
        assert resp.status == 202, await resp.text()
    assert (await quota(hub, "alice", alice))["used_bytes"] == first.size
    app = hub.client.server.app
    await GarbageCollector(app[keys.DRIVER], app[keys.ENGINE]).run(GcOptions(grace=0))
    assert (await quota(hub, "alice", alice))["used_bytes"] == 0

    await set_quota(hub, "alice", limit)
    second = await upload(hub, "alice/app", alice, "two")
    assert (await put_manifest(hub, "alice/app", "v2", second, alice)).status == 201
    assert (await quota(hub, "alice", alice))["used_bytes"] == second.size
    assert (await set_quota(hub, "alice", None))["limit_bytes"] is None


async def test_admins_set_quotas_managers_see_them(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    resp = await hub.client.put(QUOTA.format("alice"), json={"limit_bytes": 10**9}, headers=alice)
    assert resp.status == 403
    assert (await hub.client.get(QUOTA.format("alice"), headers=bob)).status == 403
    assert (await hub.client.get(QUOTA.format("alice"))).status == 401
    await set_quota(hub, "alice", 10**9)
    assert (await quota(hub, "alice", alice))["limit_bytes"] == 10**9

    # An organisation's owners see its quota; its other members do not.
    resp = await hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=alice)
    assert resp.status == 201, await resp.text()
    assert (await quota(hub, "acme", alice))["limit_bytes"] is None
    assert (await hub.client.get(QUOTA.format("acme"), headers=bob)).status == 403

    for body in [
        {},
        {"limit_bytes": "10GiB"},
        {"limit_bytes": -1},
        {"limit_bytes": 1.5},
        {"limit_bytes": True},
    ]:
        resp = await hub.client.put(QUOTA.format("alice"), json=body, headers=ADMIN)
        assert resp.status == 400, body
        error = (await resp.json())["errors"][0]
        assert error["code"] == "INVALID_REQUEST"
        assert error["detail"]["field"] == "limit_bytes"
    resp = await hub.client.put(QUOTA.format("nobody"), json={"limit_bytes": 1}, headers=ADMIN)
    assert resp.status == 404
    assert (await hub.client.get(QUOTA.format("nobody"), headers=ADMIN)).status == 404
    assert (await quota(hub, "alice", ADMIN))["limit_bytes"] == 10**9


async def test_concurrent_pushes_never_take_a_namespace_past_its_quota(hub):
    alice = await hub.add_user("alice")
    base = await upload(hub, "alice/base", alice, "base")
    assert (await put_manifest(hub, "alice/base", "v1", base, alice)).status == 201
    images = [await upload(hub, f"alice/app{i}", alice, f"img{i}") for i in range(10)]
    sizes = {image.size for image in images}
    assert len(sizes) == 1  # alike in size: exactly `room` of them fit
    room = 3
    limit = base.size + room * images[0].size + images[0].size // 2
    await set_quota(hub, "alice", limit)

    answers = await asyncio.gather(
        *(put_manifest(hub, f"alice/app{i}", "v1", image, alice) for i, image in enumerate(images))
    )
    statuses = [resp.status for resp in answers]
    assert sorted(statuses) == [201] * room + [403] * (10 - room), statuses
    used = (await quota(hub, "alice", alice))["used_bytes"]
    assert used == base.size + room * images[0].size <= limit
    for i, status in enumerate(statuses):
        assert await tag_status(hub, f"alice/app{i}", "v1", alice) == (
            200 if status == 201 else 404
        )


def berth_hub(hub: Hub, *argv: str) -> int:
    """Run a `berth-hub` command on the hub's database in this process (as `main` would,
    without its process-wide umask)."""
    database = ["--database", hub.settings.database_url] if hub.settings.database_url else []
    full = [*argv, "--data", str(hub.settings.data_dir), *database]
    args = build_parser(full).parse_args(full)
    return int(args.func(args) or 0)


async def test_the_quota_command_sets_and_shows_what_the_api_does(hub, capsys):
    alice = await hub.add_user("alice")
    image = await upload(hub, "alice/app", alice, "cli")
    assert (await put_manifest(hub, "alice/app", "v1", image, alice)).status == 201

    assert await asyncio.to_thread(berth_hub, hub, "quota", "set", "alice", "1.5KiB") == 0
    assert capsys.readouterr().out == (
        f"alice: uses {format_size(image.size)} ({image.size} bytes) of its 1.5 KiB"
        f" (1536 bytes) quota ({100 * image.size / 1536:.1f}%)\n"
    )
    assert (await quota(hub, "alice", alice))["limit_bytes"] == 1536
    assert await asyncio.to_thread(berth_hub, hub, "quota", "ls", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "namespace": "alice",
            "limit_bytes": 1536,
            "used_bytes": image.size,
            "percent": round(100 * image.size / 1536, 2),
        }
    ]
    assert await asyncio.to_thread(berth_hub, hub, "quota", "ls") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split() for line in lines] == [
        ["NAMESPACE", "USED", "LIMIT", "PERCENT"],
        [
            "alice",
            *format_size(image.size).split(),
            "1.5",
            "KiB",
            f"{100 * image.size / 1536:.1f}%",
        ],
    ]
    assert await asyncio.to_thread(berth_hub, hub, "quota", "set", "alice", "none") == 0
    assert "no quota" in capsys.readouterr().out
    assert (await quota(hub, "alice", alice))["limit_bytes"] is None
    assert await asyncio.to_thread(berth_hub, hub, "quota", "show", "nobody") == 1
    assert "no namespace 'nobody'" in capsys.readouterr().err


async def test_a_quota_set_while_a_push_is_in_flight_charges_that_push(api_database):
    """PostgreSQL: a push that began before its namespace had a quota took no row lock.
    Setting the quota waits for it, so its bytes are charged; had the count run first, the
    charge would stay below the usage and a later push could slip past the limit."""
    await empty_tables(api_database)
    pusher, setter = create_engine(api_database), create_engine(api_database)
    layer = b"in-flight layer " * 100
    payload = image_manifest(b"{}", [layer])
    try:
        async with pusher.begin() as push:
            assert await quota_queries.locked_quota(push, "carol") is None
            repo_id = await queries.ensure_repository(push, "carol/app")
            await queries.add_blob(push, repo_id, sha256(layer), len(layer))
            await queries.put_manifest(
                push,
                repo_id,
                digest=sha256(payload),
                media_type=mt.OCI_MANIFEST,
                artifact_type=None,
                subject_digest=None,
                annotations=None,
                payload=payload,
                references=[(sha256(layer), "blob")],
            )

            async def set_limit() -> None:
                async with setter.begin() as conn:
                    await quota_queries.set_quota(conn, "carol", 10**6)

            setting = asyncio.create_task(set_limit())
            await until_a_lock_is_awaited(setter)
            assert not setting.done()
        await setting
        async with setter.connect() as conn:
            row = await quota_queries.quota(conn, "carol")
            assert row is not None
            assert row.charged_bytes >= await quota_queries.usage(conn, "carol") > len(layer)
    finally:
        await pusher.dispose()
        await setter.dispose()


async def until_a_lock_is_awaited(engine, deadline: float = 10.0) -> None:
    """Return once some session of the database waits for an advisory lock."""
    waiting = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    async with engine.connect() as conn:
        while not await conn.scalar(waiting):
            assert loop.time() < end, "setting the quota never waited for the push in flight"
            await asyncio.sleep(0.02)
