"""`berth image save / load / import` with real Docker, and bad archives (issue 5)."""

from __future__ import annotations

import hashlib
import http.server
import io
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.dockerd import docker_cli
from tests.support.hub import HubProcess
from tests.support.images import BuiltImage, OciLayout
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow


@pytest.fixture
def berth(tmp_path: Path) -> BerthCli:
    """The berth CLI with an empty root."""
    return BerthCli(tmp_path / "berth-root")


def store_state(berth: BerthCli) -> tuple[str, list[str]]:
    """What a user can see of the store: the image list and the blobs on disk."""
    blobs = berth.root / "content" / "blobs" / "sha256"
    names = sorted(p.name for p in blobs.iterdir()) if blobs.exists() else []
    listing = berth("images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}")
    return listing.stdout, names


def pipe(producer: list[str], consumer: list[str], producer_env: dict[str, str],
         consumer_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`producer | consumer`, both checked; returns the consumer's result."""
    first = subprocess.Popen(producer, env=producer_env, stdout=subprocess.PIPE)
    second = subprocess.run(consumer, env=consumer_env, stdin=first.stdout,
                            capture_output=True, text=True, timeout=300, check=False)
    assert first.stdout is not None
    first.stdout.close()
    assert first.wait(60) == 0
    assert second.returncode == 0, second.stderr
    return second


def test_docker_save_piped_into_berth_load(berth: BerthCli, dockerd,
                                           docker_archive: Path) -> None:
    dockerd.run("load", "-i", str(docker_archive))
    docker_id = dockerd.run("image", "inspect", "--format", "{{.Id}}",
                            "berth-test/busybox:v1").stdout.strip()
    result = pipe([str(docker_cli()), "save", "berth-test/busybox:v1"],
                  berth.command("image", "load"), dockerd.env(), berth.env)
    assert result.stdout == "Loaded image: berth-test/busybox:v1\n"
    inspect = berth("image", "inspect", "--format", "{{.Id}}", "berth-test/busybox:v1")
    assert inspect.stdout.strip() == docker_id


def test_berth_save_piped_into_docker_load(berth: BerthCli, dockerd, shared_hub: HubProcess,
                                           skopeo: Skopeo, oci_layout: OciLayout,
                                           built_image: BuiltImage) -> None:
    name = f"{shared_hub.host}/archive-test/busybox:v1"
    skopeo.run("copy", "--dest-tls-verify=false", oci_layout.reference, f"docker://{name}")
    berth("pull", name)  # gzip layers: save must write them as plain tars
    berth("tag", name, "berth-saved/busybox:v1")
    dockerd.run("rmi", "berth-saved/busybox:v1", check=False)
    try:
        result = pipe(berth.command("image", "save", "berth-saved/busybox:v1"),
                      [str(docker_cli()), "load"], berth.env, dockerd.env())
        assert "berth-saved/busybox:v1" in result.stdout
        docker_id = dockerd.run("image", "inspect", "--format", "{{.Id}}",
                                "berth-saved/busybox:v1").stdout.strip()
        assert docker_id == built_image.config_digest
        hello = dockerd.run("run", "--rm", "berth-saved/busybox:v1", "cat", "/data/hello.txt")
        assert hello.stdout == "hello from berth\n"
    finally:
        dockerd.run("rmi", "berth-saved/busybox:v1", check=False)
    # The archive is also an OCI layout that skopeo reads.
    archive = berth.root.parent / "saved.tar"
    berth("save", "-o", str(archive), "berth-saved/busybox:v1")
    raw = skopeo.run("inspect", f"oci-archive:{archive}:v1").stdout
    assert built_image.config_digest.removeprefix("sha256:")[:12] in raw or '"Digest"' in raw


def test_load_oci_layout_archive(berth: BerthCli, tmp_path: Path, oci_layout: OciLayout,
                                 built_image: BuiltImage) -> None:
    archive = tmp_path / "layout.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(oci_layout.path, arcname=".")
    result = berth("load", "-i", str(archive))
    assert result.stdout == f"Loaded image ID: {built_image.config_digest}\n"
    assert berth("images", "-q").stdout.strip() == built_image.config_digest[7:19]


def test_truncated_archive_is_refused_and_store_unchanged(berth: BerthCli, tmp_path: Path,
                                                          docker_archive: Path,
                                                          oci_layout: OciLayout) -> None:
    layout_tar = tmp_path / "layout.tar"
    with tarfile.open(layout_tar, "w") as tar:
        tar.add(oci_layout.path, arcname=".")
    berth("load", "-i", str(layout_tar))
    before = store_state(berth)
    data = docker_archive.read_bytes()
    for cut in (len(data) // 2, len(data) - 3000, 700):
        truncated = tmp_path / f"truncated-{cut}.tar"
        truncated.write_bytes(data[:cut])
        result = berth("load", "-i", str(truncated), check=False)
        assert result.returncode == 1
        assert "invalid archive" in result.stderr and "Traceback" not in result.stderr
        assert store_state(berth) == before
    result = berth("load", input=data[: len(data) // 3], check=False)
    assert result.returncode == 1 and store_state(berth) == before


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A plain HTTP server on loopback serving a directory: (base URL, directory)."""
    directory = tmp_path / "served"
    directory.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(directory), **kwargs)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", directory
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def rootfs_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("etc/os-release", b"NAME=imported\n"), ("hello.txt", b"hi\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_import_from_file_stdin_and_url(berth: BerthCli, tmp_path: Path,
                                        file_server: tuple[str, Path]) -> None:
    data = rootfs_tar()
    path = tmp_path / "rootfs.tar"
    path.write_bytes(data)
    result = berth("import", "-c", 'CMD ["/bin/sh", "-c", "cat /hello.txt"]', "-c", "ENV A=b",
                   "-c", "WORKDIR /srv", "-c", "EXPOSE 8080", "-m", "first import",
                   str(path), "imported/app:1")
    image_id = result.stdout.strip()
    assert image_id.startswith("sha256:")
    fmt = "{{json .Config}}|{{.Comment}}|{{json .RootFS.Layers}}"
    config, comment, layers = berth("image", "inspect", "--format", fmt,
                                    "imported/app:1").stdout.strip().split("|")
    assert '"Cmd":["/bin/sh","-c","cat /hello.txt"]' in config
    assert '"Env":["A=b"]' in config and '"WorkingDir":"/srv"' in config
    assert '"8080/tcp"' in config and comment == "first import"
    assert layers == f'["sha256:{hashlib.sha256(data).hexdigest()}"]'
    berth("image", "import", "-", "imported/app:stdin", input=data)
    url, served = file_server
    (served / "rootfs.tar").write_bytes(data)
    berth("image", "import", f"{url}/rootfs.tar", "imported/app:url")
    tags = berth("images", "--format", "{{.Tag}}", "imported/app").stdout.split()
    assert sorted(tags) == ["1", "stdin", "url"]
    before = store_state(berth)
    result = berth("import", "-", "imported/app:bad", input=data[:700], check=False)
    assert result.returncode == 1 and "invalid tar archive" in result.stderr
    assert store_state(berth) == before
    result = berth("import", "-c", "FROM scratch", str(path), check=False)
    assert result.returncode == 125 and "not a valid change command" in result.stderr
