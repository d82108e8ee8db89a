"""Layer unpacking into overlay snapshots: whiteouts, metadata, links, and refused layers."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from runtime_client.container_errors import BadLayerError, UnsafeLayerError
from runtime_client.snapshots.overlay import OverlaySnapshotter, is_opaque, is_whiteout
from runtime_client.unpack import LayerSource, chain_ids, unpack_layers
from tests.berth_containers.rootfs import (
    Layer,
    _info,
    directory,
    file,
    hardlink,
    make_layer,
    symlink,
)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, mknod, xattrs)")


def source(layer: Layer) -> LayerSource:
    return LayerSource(layer.diff_id, lambda: io.BufferedReader(io.BytesIO(layer.blob)))


@pytest.fixture
def snaps(tmp_path: Path) -> OverlaySnapshotter:
    return OverlaySnapshotter(tmp_path / "snapshots")


def test_metadata_links_and_devices(snaps: OverlaySnapshotter) -> None:
    xattr = _info("data/tagged", tarfile.REGTYPE, 0o640, uid=1000, gid=33)
    xattr.pax_headers = {"SCHILY.xattr.user.colour": "blue"}
    layer = make_layer([
        directory("data", 0o750, uid=12, gid=34),
        (xattr, b"x"),
        file("data/setuid", b"#!", 0o4755),
        hardlink("data/twin", "data/setuid"),
        symlink("data/abs", "/bin/busybox"),
        (_info("dev/null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3), None),
    ])
    top = unpack_layers(snaps, [source(layer)])
    assert top == layer.diff_id
    fs = snaps.upper_dir(top)
    st = os.lstat(fs / "data")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (12, 34, 0o750)
    assert st.st_mtime == 1_700_000_000
    tagged = os.lstat(fs / "data/tagged")
    assert (tagged.st_uid, tagged.st_gid, stat.S_IMODE(tagged.st_mode)) == (1000, 33, 0o640)
    assert os.getxattr(fs / "data/tagged", "user.colour") == b"blue"
    assert stat.S_IMODE(os.lstat(fs / "data/setuid").st_mode) == 0o4755
    assert os.lstat(fs / "data/twin").st_ino == os.lstat(fs / "data/setuid").st_ino
    assert os.readlink(fs / "data/abs") == "/bin/busybox"
    dev = os.lstat(fs / "dev/null")
    assert stat.S_ISCHR(dev.st_mode) and os.major(dev.st_rdev) == 1


def test_whiteouts_become_overlay_whiteouts(snaps: OverlaySnapshotter) -> None:
    base = make_layer([directory("etc"), file("etc/a", b"a"), directory("opt"),
                       file("opt/old", b"o")])
    upper = make_layer([file("etc/.wh.a", b""), directory("opt"), file("opt/.wh..wh..opq", b""),
                        file("opt/new", b"n")], gz=False)
    top = unpack_layers(snaps, [source(base), source(upper)])
    assert top == chain_ids([base.diff_id, upper.diff_id])[1]
    fs = snaps.upper_dir(top)
    assert is_whiteout(os.lstat(fs / "etc/a"))
    assert is_opaque(fs / "opt")
    assert (fs / "opt/new").read_bytes() == b"n"
    # Unpacked once: a second call reuses the committed snapshots.
    assert unpack_layers(snaps, [source(base), source(upper)]) == top
    assert len(list(snaps.walk())) == 2


@pytest.mark.parametrize("entries", [
    [file("../escaped", b"x")],
    [file("a/../../escaped", b"x")],
    [symlink("evil", "/tmp"), file("evil/escaped", b"x")],
    [symlink("evil", "../../../../../../tmp")],
    [directory("d"), symlink("d/up", "../..")],
    [hardlink("link", "../../etc/passwd")],
], ids=["dotdot", "nested-dotdot", "through-absolute-link", "relative-link-out",
        "nested-link-out", "hardlink-out"])
def test_escaping_layers_are_refused(snaps: OverlaySnapshotter, tmp_path: Path,
                                     entries: list) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    layer = make_layer(entries)
    with pytest.raises(UnsafeLayerError):
        unpack_layers(snaps, [source(layer)])
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not (tmp_path / "escaped").exists()
    assert list(snaps.walk()) == []
    assert [p.name for p in snaps.root.iterdir()] == []


def test_diff_id_mismatch_and_garbage_are_refused(snaps: OverlaySnapshotter) -> None:
    layer = make_layer([file("a", b"a")])
    with pytest.raises(BadLayerError, match="diff ID"):
        unpack_layers(snaps, [LayerSource("sha256:" + "0" * 64, source(layer).open)])
    with pytest.raises(BadLayerError):
        unpack_layers(snaps, [LayerSource("sha256:" + "1" * 64,
                                          lambda: io.BufferedReader(io.BytesIO(b"junk" * 200)))])
    assert list(snaps.walk()) == []
