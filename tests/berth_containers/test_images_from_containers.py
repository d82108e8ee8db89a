"""diff, commit, push/pull of the result, export/import round trip, and refused layers."""

from __future__ import annotations

import gzip
import io
import json
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


def test_export_then_import_round_trips_the_files(clean: BerthCli, image: str,
                                                   tmp_path: Path) -> None:
    clean("run", "--name", "exp", image, "sh", "-c",
          "mkdir -p /srv/app && echo exported > /srv/app/file && ln -s file /srv/app/link")
    archive = tmp_path / "exp.tar"
    clean("export", "-o", str(archive), "exp")
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        assert {"srv/app/file", "srv/app/link", "bin/busybox", "data/hello.txt"} <= names
        assert tar.getmember("srv/app/link").issym()
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
