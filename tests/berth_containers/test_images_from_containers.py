"""diff, commit, push/pull of the result, export/import round trip, and refused layers."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.hub import HubProcess
from tests.support.images import Layer, build_image, write_oci_layout
from tests.support.skopeo import Skopeo

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_commit_push_pull_and_run_the_change(clean: BerthCli, image: str,
                                              shared_hub: HubProcess) -> None:
    clean("run", "--name", "changer", image, "sh", "-c",
          "echo committed > /etc/new.txt; rm /data/hello.txt")
    target = f"{shared_hub.host}/berth-test/committed:v1"
    image_id = clean("commit", "-a", "Ann Author", "-m", "add new.txt", "--change",
                     'CMD ["cat", "/etc/new.txt"]', "--change", "ENV COMMITTED=yes",
                     "changer", target).stdout.strip()
    assert image_id.startswith("sha256:")
    refused = clean("commit", "--change", "RUN rm -rf /", "changer", check=False)
    assert refused.returncode == 1
    assert refused.stderr == "Error response from daemon: RUN is not a valid change command\n"
    assert clean("run", "--rm", target).stdout == "committed\n"
    info = json.loads(clean("image", "inspect", target).stdout)[0]
    assert info["Author"] == "Ann Author"
    assert "COMMITTED=yes" in info["Config"]["Env"]
    assert len(info["RootFS"]["Layers"]) == 4
    clean("push", target)
    clean("rm", "changer")
    clean("rmi", target)
    assert clean("image", "inspect", target, check=False).returncode != 0
    clean("pull", target)
    assert clean("run", "--rm", target).stdout == "committed\n"
    assert clean("run", "--rm", target, "ls", "/data/hello.txt", check=False).returncode != 0


def _last_layer(archive: Path) -> dict[str, tarfile.TarInfo]:
    """The members of the top layer of an image saved by `berth save`."""
    with tarfile.open(archive) as saved:
        manifest = json.load(saved.extractfile("manifest.json"))  # type: ignore[arg-type]
        layer = saved.extractfile(manifest[0]["Layers"][-1])
        assert layer is not None
        with tarfile.open(fileobj=io.BytesIO(layer.read())) as tar:
            return {member.name: member for member in tar}


def test_commit_keeps_extended_attributes(clean: BerthCli, image: str, tmp_path: Path) -> None:
    clean("run", "--name", "caps", image, "sh", "-c",
          "cp /bin/busybox /bin/busybox-reader && echo top secret > /root/secret"
          " && chmod 600 /root/secret && rm -rf /data && mkdir /data && echo new > /data/f")
    info = json.loads(clean("inspect", "caps").stdout)[0]
    upper = Path(info["GraphDriver"]["Data"]["UpperDir"])
    # busybox has no setfattr/setcap applet; set them from the host on the changed files
    subprocess.run(["setcap", "cap_dac_override+ep", str(upper / "bin/busybox-reader")],
                   check=True)
    os.setxattr(upper / "data/f", "user.berth", b"hello")
    clean("commit", "caps", "caps:v1")

    # the file capability came along: an unprivileged user reads a root-only file through it
    reader = clean("run", "--rm", "-u", "nobody", "caps:v1",
                   "busybox-reader", "cat", "/root/secret")
    assert reader.stdout == "top secret\n"
    plain = clean("run", "--rm", "-u", "nobody", "caps:v1", "cat", "/root/secret",
                  check=False)
    assert plain.returncode != 0

    archive = tmp_path / "caps.tar"
    clean("save", "-o", str(archive), "caps:v1")
    members = _last_layer(archive)
    assert members["data/f"].pax_headers["SCHILY.xattr.user.berth"] == "hello"
    assert "SCHILY.xattr.security.capability" in members["bin/busybox-reader"].pax_headers
    # the recreated /data is opaque as an OCI marker, never as overlayfs's private attribute
    assert "data/.wh..wh..opq" in members
    assert not [key for member in members.values() for key in member.pax_headers
                if key.startswith("SCHILY.xattr.trusted.overlay.")]


def test_export_then_import_round_trips_the_files(clean: BerthCli, image: str,
                                                   tmp_path: Path) -> None:
    clean("run", "--name", "exp", image, "sh", "-c",
          "mkdir -p /srv/app && echo exported > /srv/app/file && ln -s file /srv/app/link")
    upper = Path(json.loads(clean("inspect", "exp").stdout)[0]["GraphDriver"]["Data"]["UpperDir"])
    os.setxattr(upper / "srv/app/file", "user.berth", b"exported")  # busybox has no setfattr
    archive = tmp_path / "exp.tar"
    clean("export", "-o", str(archive), "exp")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        assert {"srv/app/file", "srv/app/link", "bin/busybox", "data/hello.txt"} <= names
        assert tar.getmember("srv/app/link").issym()
        assert tar.getmember("srv/app/file").pax_headers["SCHILY.xattr.user.berth"] == "exported"
        assert not [key for member in tar.getmembers() for key in member.pax_headers
                    if key.startswith("SCHILY.xattr.trusted.overlay.")]
    clean("image", "import", str(archive), "imported:v1")
    out = clean("run", "--rm", "imported:v1", "sh", "-c",
                "cat /srv/app/link /data/hello.txt").stdout
    assert out.startswith("exported\n")


def _tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            info.mtime = 1704067200
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return raw.getvalue()


def _evil_layers(victim: Path) -> dict[str, Layer]:
    dotdot = tarfile.TarInfo(f"../../../../../../../..{victim}/dotdot")
    link = tarfile.TarInfo("escape")
    link.type, link.linkname = tarfile.SYMTYPE, str(victim)
    through = tarfile.TarInfo("escape/through-link")
    layers = {"dotdot": [(dotdot, b"pwned")], "absolute-link": [(link, None), (through, b"x")]}
    result = {}
    for name, entries in layers.items():
        tar = _tar(entries)
        result[name] = Layer(tar, gzip.compress(tar, mtime=0), f"evil {name}")
    return result


@pytest.mark.parametrize("kind", ["dotdot", "absolute-link"])
def test_layers_escaping_the_root_are_refused(clean: BerthCli, shared_hub: HubProcess,
                                              skopeo: Skopeo, tmp_path: Path,
                                              image: str, kind: str) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    built = build_image("amd64")
    evil = build_image("amd64", base=(built.layers[0], _evil_layers(victim)[kind]))
    layout = write_oci_layout(tmp_path / "layout", "evil", evil)
    ref = f"{shared_hub.host}/berth-test/evil-{kind}:v1"
    skopeo.copy(layout.reference, f"docker://{ref}")
    clean("pull", ref)
    snapshots_before = sorted(p.name for p in (clean.root / "snapshots").iterdir())
    result = clean("run", "--rm", ref, "true", check=False)
    assert result.returncode == 125
    assert "escape" in result.stderr or "outside" in result.stderr or "symlink" in result.stderr
    assert list(victim.iterdir()) == []
    assert sorted(p.name for p in (clean.root / "snapshots").iterdir()) == snapshots_before
    assert clean("ps", "-aq").stdout == ""
