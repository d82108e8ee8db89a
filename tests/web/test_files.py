"""The image file browser: merged layers with whiteouts, pagination, bounded memory, and no
way out of the image."""

from __future__ import annotations

import gzip
import html
import io
import json
import re
import tarfile
import tracemalloc

from registry import keys
from registry.hub.filesystem import ImageFilesystem
from registry.oci import mediatypes as mt
from registry.storage.driver.base import StorageDriverError
from tests.api.conftest import image_manifest, sha256
from tests.web.support import push_blob


def layer(*entries: tuple) -> bytes:
    """A gzipped tar: entries are (name, kind, data-or-target[, mode])."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, kind, payload, *mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode[0] if mode else 0o644
            data = None
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, mode[0] if mode else 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, payload
            else:
                data = payload
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(buffer.getvalue(), mtime=0)


async def push_layers(hub, name: str, tag: str, layers: list[bytes]) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    for blob in [config, *layers]:
        await push_blob(hub.client, name, blob, hub.alice)
    resp = await hub.client.put(
        f"/v2/{name}/manifests/{tag}", data=image_manifest(config, layers),
        headers={**hub.alice, "Content-Type": mt.OCI_MANIFEST},
    )
    assert resp.status == 201, await resp.text()
    resp = await hub.client.patch(f"/api/v1/repositories/{name}", json={"is_public": True},
                                  headers=hub.alice)
    assert resp.status == 200


def rows(page: str) -> dict[str, tuple[str, str]]:
    """name -> (type, layer column) of a listing page."""
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    found = re.findall(
        r'<td><a href="[^"]*">([^<]+?)/?</a>.*?</td>\s*<td>([\w-]+)</td>'
        r'.*?<td class="layer">(\d+ \w+)</td>',
        body, re.S,
    )
    return {name: (kind, where) for name, kind, where in found}


BASE = [
    ("etc", "dir", None),
    ("etc/passwd", "file", b"root:x:0:0\n"),
    ("etc/old.conf", "file", b"old\n"),
    ("bin", "dir", None),
    ("bin/sh", "file", b"\x7fELF", 0o755),
    ("var", "dir", None),
    ("var/lib", "dir", None),
    ("var/lib/data", "file", b"d"),
    ("opt/deep/file", "file", b"x"),  # no directory entries: implied
]
TOP = [
    ("etc", "dir", None),
    ("etc/.wh.old.conf", "file", b""),
    ("etc/passwd", "file", b"root:x:0:0\nalice:x:1000:1000\n"),
    ("etc/new.conf", "file", b"new\n"),
    ("var", "dir", None),
    ("var/.wh..wh..opq", "file", b""),
    ("var/new", "file", b"n"),
    ("bin", "symlink", "usr/bin"),
    ("../../escape", "file", b"evil"),
]


async def test_merged_directories_apply_whiteouts_and_show_layers(hub, browsers):
    await push_layers(hub, "alice/fs", "1", [layer(*BASE), layer(*TOP)])
    browser = browsers()
    status, page, _ = await browser.get("/r/alice/fs/-/tags/1/files")
    assert status == 200
    assert rows(page) == {
        "bin": ("symlink", "2 changed"),
        "etc": ("dir", "2 changed"),
        "opt": ("dir", "1 added"),
        "var": ("dir", "2 changed"),
    }
    assert "escape" not in page
    _, page, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/etc")
    assert rows(page) == {"new.conf": ("file", "2 added"), "passwd": ("file", "2 changed")}
    _, page, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/var")
    assert rows(page) == {"new": ("file", "2 added")}  # the opaque whiteout hid lib/
    assert (await browser.get("/r/alice/fs/-/tags/1/files?path=/var/lib"))[0] == 404
    assert (await browser.get("/r/alice/fs/-/tags/1/files?path=/bin/sh"))[0] == 404
    _, page, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/bin")
    assert 'id="file-entry"' in page and "usr/bin" in page  # a link is shown, not followed
    _, page, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/opt")
    assert rows(page) == {"deep": ("dir", "1 added")}
    _, page, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/etc/passwd")
    assert "rw-r--r--" in page and "changed" in page


async def test_paths_outside_the_image_are_refused(hub, browsers):
    await push_layers(hub, "alice/fs", "1", [layer(*BASE)])
    browser = browsers()
    for path in ("/../etc", "/etc/../../root", "etc", "/..", "/./../x"):
        status, page, _ = await browser.get(
            "/r/alice/fs/-/tags/1/files", params={"path": path}
        )
        assert status == 400, path
        assert "may not leave the image" in page or "start with /" in page
    status, _, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/etc/./passwd")
    assert status == 200


async def test_large_directories_are_paginated(hub, browsers):
    files = [(f"many/f{i:04}", "file", b"") for i in range(250)]
    await push_layers(hub, "alice/fs", "1", [layer(*files)])
    browser = browsers()
    _, first, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/many")
    _, last, _ = await browser.get("/r/alice/fs/-/tags/1/files?path=/many&page=3")
    assert "250 entries" in first and "Page 1 of 3" in first
    assert list(rows(first))[:2] == ["f0000", "f0001"] and len(rows(first)) == 100
    assert list(rows(last)) == [f"f{i:04}" for i in range(200, 250)]


async def test_listing_streams_layers_with_bounded_memory(hub):
    big = b"\0" * (64 * 1024 * 1024)  # 64 MiB file; gzip makes it tiny in storage
    await push_layers(hub, "alice/big", "1", [layer(("data/big.bin", "file", big))])
    del big
    service = hub.client.server.app[keys.FILESYSTEM]
    tracemalloc.start()
    try:
        listing = await service.directory("alice/big", "1", "/data", offset=0, limit=10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(e.name, e.size) for e in listing.children] == [("big.bin", 64 * 1024 * 1024)]
    assert peak < 8 * 1024 * 1024, peak


async def test_an_index_has_no_single_filesystem(hub, browsers):
    await push_layers(hub, "alice/fs", "1", [layer(*BASE)])
    manifest = await (await hub.client.get(
        "/v2/alice/fs/manifests/1", headers={**hub.alice, "Accept": mt.OCI_MANIFEST})).read()
    child = {"mediaType": mt.OCI_MANIFEST, "digest": sha256(manifest), "size": len(manifest)}
    index = json.dumps(
        {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [child]}
    ).encode()
    resp = await hub.client.put("/v2/alice/fs/manifests/all", data=index,
                                headers={**hub.alice, "Content-Type": mt.OCI_INDEX})
    assert resp.status == 201
    status, page, _ = await browsers().get("/r/alice/fs/-/tags/all/files")
    assert status == 400 and "pick a platform" in html.unescape(page)


class CountingDriver:
    """The hub's storage driver, counting layer reads; `fail_next` makes the next read fail."""

    def __init__(self, driver) -> None:
        self.driver = driver
        self.reads = 0
        self.fail_next = False

    async def reader(self, path: str, offset: int = 0):
        self.reads += 1
        if self.fail_next:
            self.fail_next = False
            raise StorageDriverError("counting", path, "storage went away")
        async for chunk in self.driver.reader(path, offset):
            yield chunk


def counting_filesystem(
    hub, cached_entries: int = 200_000
) -> tuple[ImageFilesystem, CountingDriver]:
    app = hub.client.server.app
    driver = CountingDriver(app[keys.DRIVER])
    return ImageFilesystem(app[keys.MANIFESTS], driver, cached_entries), driver


async def test_browsing_an_image_reads_each_layer_once(hub):
    await push_layers(hub, "alice/fs", "1", [layer(*BASE), layer(*TOP)])
    service, driver = counting_filesystem(hub)
    root = await service.directory("alice/fs", "1", "/", offset=0, limit=100)
    etc = await service.directory("alice/fs", "1", "/etc", offset=0, limit=100)
    var = await service.directory("alice/fs", "1", "/var", offset=0, limit=100)
    assert [e.name for e in root.children] == ["bin", "etc", "opt", "var"]
    assert [e.name for e in etc.children] == ["new.conf", "passwd"]
    assert [e.name for e in var.children] == ["new"]
    assert driver.reads == 2  # the two layers, once each


async def test_a_layer_over_the_cache_budget_is_read_every_time(hub):
    files = [(f"many/f{i:04}", "file", b"") for i in range(250)]
    await push_layers(hub, "alice/fs", "1", [layer(*files)])
    service, driver = counting_filesystem(hub, cached_entries=100)
    for _ in range(2):
        listing = await service.directory("alice/fs", "1", "/many", offset=240, limit=100)
        assert listing.total == 250 and listing.children[-1].name == "f0249"
    assert driver.reads == 2


async def test_a_layer_that_could_not_be_read_is_read_again(hub):
    await push_layers(hub, "alice/fs", "1", [layer(*BASE)])
    service, driver = counting_filesystem(hub)
    driver.fail_next = True
    failed = await service.directory("alice/fs", "1", "/", offset=0, limit=100)
    assert failed.children == ()
    listing = await service.directory("alice/fs", "1", "/", offset=0, limit=100)
    assert [e.name for e in listing.children] == ["bin", "etc", "opt", "var"]
    assert driver.reads == 2
