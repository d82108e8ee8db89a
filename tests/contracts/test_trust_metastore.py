"""One behaviour suite for every trust `MetaStore` (memory, and SQL on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from trust.server.errors import OldVersionError
from trust.server.store.base import MetaUpdate, StoredKey
from trust.server.store.memory import MemoryMetaStore
from trust.server.store.sql import SqlMetaStore, create_tables

GUN = "hub:5000/team/app"


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
async def store(request, tmp_path):
    if request.param == "memory":
        yield MemoryMetaStore()
        return
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").create_database("trust")
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'trust.db'}"
    engine = create_async_engine(url)
    await create_tables(engine)
    yield SqlMetaStore(engine)
    await engine.dispose()


async def test_current_version_and_checksum_lookups(store):
    assert await store.get_current(GUN, "root") is None
    await store.update_many(GUN, [MetaUpdate("root", 1, b"r1"), MetaUpdate("targets", 1, b"t1")])
    await store.update_many(GUN, [MetaUpdate("targets", 2, b"t2")])
    current = await store.get_current(GUN, "targets")
    assert (current.version, current.data) == (2, b"t2")
    assert current.sha256 == hashlib.sha256(b"t2").hexdigest()
    assert current.created_at.tzinfo is not None
    assert (await store.get_version(GUN, "targets", 1)).data == b"t1"
    assert await store.get_version(GUN, "targets", 3) is None
    by_sha256 = await store.get_checksum(GUN, "targets", hashlib.sha256(b"t1").hexdigest())
    assert by_sha256.version == 1
    by_sha512 = await store.get_checksum(GUN, "targets", hashlib.sha512(b"t2").hexdigest())
    assert by_sha512.version == 2
    assert await store.get_checksum(GUN, "root", hashlib.sha256(b"t1").hexdigest()) is None
    assert {r: m.version for r, m in (await store.get_all_current(GUN)).items()} == {
        "root": 1,
        "targets": 2,
    }
    assert await store.get_current("other/gun", "targets") is None


async def test_all_current_is_the_highest_version_of_each_role_of_the_gun(store):
    # Roles of other GUNs sort between this one's; versions need not be consecutive.
    await store.update_many("a/first", [MetaUpdate("targets/m", 9, b"other")])
    await store.update_many(GUN, [MetaUpdate("root", 1, b"r1"), MetaUpdate("targets", 1, b"t1")])
    await store.update_many("z/last", [MetaUpdate("snapshot", 7, b"other")])
    await store.update_many(GUN, [MetaUpdate("targets/releases", 3, b"d3")])
    await store.update_many(GUN, [MetaUpdate("targets", 4, b"t4"), MetaUpdate("snapshot", 2, b"")])
    await store.update_many(GUN, [MetaUpdate("targets/releases", 8, b"d8")])
    await store.update_many(GUN, [MetaUpdate("timestamp", 5, b"ts5")])
    current = await store.get_all_current(GUN)
    assert {role: (meta.version, meta.data) for role, meta in current.items()} == {
        "root": (1, b"r1"),
        "targets": (4, b"t4"),
        "targets/releases": (8, b"d8"),
        "snapshot": (2, b""),
        "timestamp": (5, b"ts5"),
    }
    assert current["targets"].sha256 == hashlib.sha256(b"t4").hexdigest()
    assert current["targets"].created_at.tzinfo is not None
    assert await store.get_all_current("unknown/gun") == {}
    # The version check of an update sees every role's highest version too.
    with pytest.raises(OldVersionError):
        await store.update_many(GUN, [MetaUpdate("targets/releases", 5, b"d5")])


async def test_update_many_is_atomic_and_refuses_old_versions(store):
    await store.update_many(GUN, [MetaUpdate("targets", 2, b"t2")])
    with pytest.raises(OldVersionError):
        await store.update_many(GUN, [MetaUpdate("root", 1, b"r1"), MetaUpdate("targets", 2, b"x")])
    assert await store.get_current(GUN, "root") is None  # nothing of the failed update
    with pytest.raises(OldVersionError):
        await store.update_many(GUN, [MetaUpdate("targets", 1, b"t1")])
    await store.update_many(GUN, [MetaUpdate("targets", 5, b"t5")])
    assert (await store.get_current(GUN, "targets")).version == 5


async def test_concurrent_updates_of_one_version_store_one(store):
    results = await asyncio.gather(
        *(store.update_many(GUN, [MetaUpdate("targets", 1, bytes([i]))]) for i in range(5)),
        return_exceptions=True,
    )
    assert sum(result is None for result in results) == 1
    assert all(isinstance(r, OldVersionError) for r in results if r is not None)


async def test_delete_removes_metadata_of_one_gun(store):
    await store.update_many(GUN, [MetaUpdate("root", 1, b"r")])
    await store.update_many("other", [MetaUpdate("root", 1, b"o")])
    await store.delete(GUN)
    assert await store.get_all_current(GUN) == {}
    assert (await store.get_current("other", "root")).data == b"o"
    await store.update_many(GUN, [MetaUpdate("root", 1, b"again")])  # versions restart


async def test_change_feed(store):
    for version in (1, 2, 3):
        await store.update_many(GUN, [MetaUpdate("timestamp", version, b"ts%d" % version)])
    await store.update_many("other", [MetaUpdate("timestamp", 1, b"o")])
    await store.update_many(GUN, [MetaUpdate("targets", 1, b"t")])  # not a change record
    await store.delete(GUN)
    everything = await store.get_changes(0, 100, None)
    assert [(c.gun, c.version, c.category) for c in everything] == [
        (GUN, 1, "update"),
        (GUN, 2, "update"),
        (GUN, 3, "update"),
        ("other", 1, "update"),
        (GUN, 0, "deletion"),
    ]
    assert everything[0].sha256 == hashlib.sha256(b"ts1").hexdigest()
    ids = [c.id for c in everything]
    assert ids == sorted(ids)
    mine = await store.get_changes(0, 100, GUN)
    assert [c.version for c in mine] == [1, 2, 3, 0]
    after_first = await store.get_changes(mine[0].id, 2, GUN)
    assert [c.version for c in after_first] == [2, 3]
    assert [c.version for c in await store.get_changes(-1, 2, GUN)] == [3, 0]
    assert [c.version for c in await store.get_changes(mine[2].id, -2, GUN)] == [1, 2]


async def test_keys_are_kept_per_gun_and_role_in_order(store):
    now = dt.datetime.now(dt.UTC)
    for index in range(2):
        await store.add_key(
            StoredKey(GUN, "timestamp", f"{index:064x}", "ecdsa", b"pub%d" % index, b"sealed", now)
        )
    await store.add_key(StoredKey(GUN, "snapshot", "f" * 64, "ecdsa", b"s", b"sealed", now))
    keys = await store.get_keys(GUN, "timestamp")
    assert [k.public for k in keys] == [b"pub0", b"pub1"]
    assert keys[0].encrypted_private == b"sealed"
    assert await store.get_keys("other", "timestamp") == []
    await store.delete(GUN)
    assert len(await store.get_keys(GUN, "timestamp")) == 2  # deleting metadata keeps keys
