"""Volumes without containers: `-v`/`--mount` parsing, the volume store, `volume ls` filters."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from runtime_client.container_errors import InvalidOptionError, VolumeError
from runtime_client.layout import Layout
from runtime_client.ops.volume_ls import _keeps, parse_volume_filters
from runtime_client.ops.volumes import requested_mounts
from runtime_client.volumes.model import (
    ANONYMOUS_LABEL,
    MountRequest,
    Volume,
    parse_mount_flag,
    parse_volume_flag,
)
from runtime_client.volumes.store import NoSuchVolumeError, VolumeStore


@pytest.mark.parametrize(("flag", "expected"), [
    ("/data", MountRequest("volume", "", "/data")),
    ("cache:/data", MountRequest("volume", "cache", "/data")),
    ("cache:/data:ro", MountRequest("volume", "cache", "/data", True, "ro")),
    ("cache:/data:ro,nocopy", MountRequest("volume", "cache", "/data", True, "ro,nocopy",
                                           copy_up=False)),
    ("/srv:/data:rw", MountRequest("bind", "/srv", "/data", False, "rw")),
])
def test_volume_flag_forms(flag: str, expected: MountRequest) -> None:
    assert parse_volume_flag(flag) == expected


@pytest.mark.parametrize(("flag", "message"), [
    ("cache:data", "mount path must be absolute"),
    ("a:/b:ro:x", "too many colons"),
    ("cache:/data:bogus", "invalid mode: bogus"),
    ("cache:/data:ro,rw", "invalid mode"),
    ("bad!name:/data", "includes invalid characters for a local volume name"),
    (":/data", "invalid spec"),
])
def test_volume_flag_errors(flag: str, message: str) -> None:
    with pytest.raises((InvalidOptionError, VolumeError), match=message):
        parse_volume_flag(flag)


@pytest.mark.parametrize(("flag", "expected"), [
    ("type=volume,source=cache,target=/data",
     MountRequest("volume", "cache", "/data", from_flag="--mount")),
    ("src=cache,dst=/data,readonly", MountRequest("volume", "cache", "/data", True,
                                                  from_flag="--mount")),
    ("type=volume,target=/data,volume-nocopy", MountRequest("volume", "", "/data",
                                                            copy_up=False, from_flag="--mount")),
    ("type=bind,source=/srv,destination=/data,readonly=true",
     MountRequest("bind", "/srv", "/data", True, from_flag="--mount")),
])
def test_mount_flag_forms(flag: str, expected: MountRequest) -> None:
    assert parse_mount_flag(flag) == expected


@pytest.mark.parametrize(("flag", "message"), [
    ("type=volume,source=cache", "target is required"),
    ("type=tmpfs,target=/t", "not 'tmpfs'"),
    ("type=bind,target=/t", "field Source must not be empty"),
    ("type=volume,target=/t,colour=red", "unexpected key 'colour'"),
    ("type=volume,target=rel", "mount path must be absolute"),
    ("type=volume,target=/t,readonly=maybe", "invalid value for readonly"),
    ("type=volume,target=/t,readonly", "must not set ReadOnly mode when using anonymous"),
])
def test_mount_flag_errors(flag: str, message: str) -> None:
    with pytest.raises(InvalidOptionError, match=message):
        parse_mount_flag(flag)


def test_image_volumes_fill_in_where_no_flag_mounts() -> None:
    requests = requested_mounts(["cache:/data/"], ["target=/logs"], ["/data", "/etc/conf"])
    assert [(r.source, r.destination, r.from_flag) for r in requests] == [
        ("cache", "/data/", "-v"), ("", "/logs", "--mount"), ("", "/etc/conf", "image")]


def test_two_mounts_on_one_destination_are_refused() -> None:
    with pytest.raises(InvalidOptionError, match="Duplicate mount point: /data"):
        requested_mounts(["one:/data"], ["source=two,target=/data/"], [])


def test_store_create_is_idempotent_and_anonymous_names_are_64_hex(tmp_path: Path) -> None:
    store = VolumeStore(Layout(tmp_path))
    with store.locked():
        first = store.create("cache", labels={"team": "a"}, options={})
        again = store.create("cache")
        anon = store.create()
    assert again == first
    assert first.labels == {"team": "a"} and first.options == {} and not first.anonymous
    assert len(anon.name) == 64 and int(anon.name, 16) >= 0
    assert anon.labels == {ANONYMOUS_LABEL: ""} and anon.anonymous
    assert (tmp_path / "volumes" / "cache" / "_data").is_dir()
    record = json.loads((tmp_path / "volumes" / "cache" / "volume.json").read_text())
    assert record["name"] == "cache" and record["created_at"].endswith("Z")
    assert [v.name for v in store.list()] == sorted(["cache", anon.name])


def test_store_refuses_other_drivers_and_unknown_options(tmp_path: Path) -> None:
    store = VolumeStore(Layout(tmp_path))
    with pytest.raises(VolumeError, match='plugin "nfs" not found'):
        store.create("x", driver="nfs")
    with pytest.raises(InvalidOptionError, match="invalid option key: 'colour'"):
        store.create("x", options={"colour": "red"})
    assert store.list() == []


def test_store_remove_and_missing(tmp_path: Path) -> None:
    store = VolumeStore(Layout(tmp_path))
    with store.locked():
        store.create("gone")
    (store.data("gone") / "f").write_text("12345")
    assert store.size("gone") == 5
    store.remove("gone")
    assert not (tmp_path / "volumes" / "gone").exists()
    with pytest.raises(NoSuchVolumeError, match="get gone: no such volume"):
        store.get("gone")


def _create_many(root: str, prefix: str) -> None:
    store = VolumeStore(Layout(Path(root)))
    for i in range(30):
        with store.locked():
            store.create(f"{prefix}{i % 10}")


def test_concurrent_processes_leave_whole_records(tmp_path: Path) -> None:
    procs = [multiprocessing.Process(target=_create_many, args=(str(tmp_path), "v"))
             for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert all(p.exitcode == 0 for p in procs)
    assert [v.name for v in VolumeStore(Layout(tmp_path)).list()] == [f"v{i}" for i in range(10)]


def test_volume_ls_filters() -> None:
    vol = Volume("web-data", "2026-01-01T00:00:00Z", labels={"team": "a", "tier": ""})
    assert _keeps(vol, parse_volume_filters(["name=web"]), used=False)
    assert not _keeps(vol, parse_volume_filters(["name=^data"]), used=False)
    assert _keeps(vol, parse_volume_filters(["label=team=a", "label=tier"]), used=False)
    assert not _keeps(vol, parse_volume_filters(["label=team=b"]), used=False)
    assert _keeps(vol, parse_volume_filters(["dangling=true"]), used=False)
    assert not _keeps(vol, parse_volume_filters(["dangling=1"]), used=True)
    assert _keeps(vol, parse_volume_filters(["dangling=false", "driver=local"]), used=True)
    with pytest.raises(InvalidOptionError, match="Invalid filter 'bogus'"):
        parse_volume_filters(["bogus=1"])
    with pytest.raises(InvalidOptionError, match="Invalid filter 'dangling=maybe'"):
        parse_volume_filters(["dangling=maybe"])


def test_a_record_from_before_mounts_keeps_its_binds_and_named_volumes() -> None:
    from runtime_client.runtime.container import Container
    old = {"id": "c" * 64, "name": "old", "created": "", "image": "i", "image_id": "sha256:x",
           "snapshot_parent": None, "binds": ["/srv:/srv:ro", "cache:/c", "/anon", "bad!:/x"]}
    container = Container.from_dict(old)
    assert [(m.type, m.source, m.destination, m.readonly) for m in container.mounts] == [
        ("bind", "/srv", "/srv", True), ("volume", "cache", "/c", False)]
