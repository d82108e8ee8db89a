"""`berth` images against real registries and the real Docker CLI (issue 5's must-shows).

Registries: our hub (`shared_hub`) and Debian's reference registry (Distribution 2.8). Docker:
the `dockerd` fixture. Every berth call runs the CLI as a subprocess with a temporary root.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import signal
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.hub import HubProcess
from tests.support.images import (
    CREATED,
    BuiltImage,
    Layer,
    canonical_json,
    pseudo_random,
    sha256_digest,
    write_oci_layout,
)
from tests.support.ports import free_port, wait_until
from tests.support.reference_registry import ReferenceRegistry
from tests.support.registry_proxy import CORRUPT_MIN_SIZE, RegistryProxy
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow


@pytest.fixture(params=["hub", "reference"])
def registry_host(request: pytest.FixtureRequest) -> str:
    """`host:port` of our hub or of the reference registry."""
    if request.param == "hub":
        hub: HubProcess = request.getfixturevalue("shared_hub")
        return hub.host
    reference: ReferenceRegistry = request.getfixturevalue("reference_registry")
    return reference.host


@pytest.fixture
def berth(tmp_path: Path) -> BerthCli:
    """The berth CLI with an empty root under the test's temporary directory."""
    return BerthCli(tmp_path / "berth-root")


def skopeo_push(skopeo: Skopeo, layout_ref: str, target: str, *extra: str) -> None:
    skopeo.run("copy", "--dest-tls-verify=false", *extra, layout_ref, f"docker://{target}")


def berth_image_id(berth: BerthCli, name: str) -> str:
    return berth("image", "inspect", "--format", "{{.Id}}", name).stdout.strip()


def docker_image_id(dockerd, name: str) -> str:  # type: ignore[no-untyped-def]
    return dockerd.run("image", "inspect", "--format", "{{.Id}}", name).stdout.strip()


def test_pull_by_tag_and_digest_then_inspect(berth: BerthCli, shared_hub: HubProcess,
                                             skopeo: Skopeo, oci_layout,
                                             built_image: BuiltImage) -> None:
    target = f"{shared_hub.host}/pull-test/busybox:v1"
    skopeo_push(skopeo, oci_layout.reference, target)
    result = berth("pull", target)
    assert result.stdout.strip() == target
    assert "Pull complete" in result.stderr
    [doc] = json.loads(berth("image", "inspect", target).stdout)
    assert doc["Id"] == built_image.config_digest
    assert doc["RepoDigests"] == [f"{shared_hub.host}/pull-test/busybox@"
                                  f"{built_image.manifest_digest}"]
    assert doc["RootFS"]["Layers"] == [layer.diff_id for layer in built_image.layers]
    assert doc["Architecture"] == "amd64" and doc["Config"]["Cmd"] == ["sh"]
    # By digest: nothing to download, same image.
    by_digest = f"{shared_hub.host}/pull-test/busybox@{built_image.manifest_digest}"
    result = berth("pull", by_digest)
    assert "Already exists" in result.stderr
    assert berth_image_id(berth, by_digest) == built_image.config_digest
    table = berth("images", "--digests").stdout.splitlines()
    assert table[0].split()[:3] == ["REPOSITORY", "TAG", "DIGEST"]
    assert any(built_image.manifest_digest in line and " v1 " in line for line in table)


def test_platform_selection_and_all_tags(berth: BerthCli, shared_hub: HubProcess,
                                         skopeo: Skopeo, multiarch_layout,
                                         multiarch_index) -> None:
    repo = f"{shared_hub.host}/pull-test/multi"
    skopeo_push(skopeo, multiarch_layout.reference, f"{repo}:multi", "--all")
    skopeo_push(skopeo, multiarch_layout.reference, f"{repo}:second", "--all")
    amd64, arm64 = multiarch_index.images
    berth("pull", f"{repo}:multi")
    assert berth_image_id(berth, f"{repo}:multi") == amd64.config_digest
    berth("pull", "--platform", "linux/arm64", f"{repo}:multi")
    assert berth_image_id(berth, f"{repo}:multi") == arm64.config_digest
    # The repo digest is the index's, as Docker records it.
    inspect = berth("image", "inspect", "--format", "{{json .RepoDigests}}", f"{repo}:multi")
    assert multiarch_index.digest in inspect.stdout
    result = berth("pull", "--platform", "linux/s390x", f"{repo}:multi", check=False)
    assert result.returncode == 1 and "no matching manifest for linux/s390x" in result.stderr
    result = berth("pull", "-a", repo)
    assert result.stdout.split() == [f"{repo}:multi", f"{repo}:second"]


def test_docker_push_then_berth_pull(berth: BerthCli, registry_host: str, dockerd,
                                     docker_archive: Path) -> None:
    target = f"{registry_host}/interop/from-docker:1"
    dockerd.run("load", "-i", str(docker_archive))
    dockerd.run("tag", "berth-test/busybox:v1", target)
    try:
        dockerd.run("push", target)
        berth("pull", target)
        assert berth_image_id(berth, target) == docker_image_id(dockerd, target)
    finally:
        dockerd.run("rmi", target, check=False)


def test_berth_push_then_docker_pull(berth: BerthCli, registry_host: str, dockerd,
                                     skopeo: Skopeo, oci_layout,
                                     built_image: BuiltImage) -> None:
    source = f"{registry_host}/interop/source:v1"
    target = f"{registry_host}/interop/from-berth:1"
    skopeo_push(skopeo, oci_layout.reference, source)
    berth("pull", source)
    berth("tag", source, target)
    result = berth("push", target)
    # Every layer came from another repository of the same registry: mounted, not uploaded.
    assert result.stderr.count("Mounted from interop/source") == len(built_image.layers)
    assert result.stdout.startswith(f"1: digest: {built_image.manifest_digest} size: ")
    dockerd.run("rmi", target, check=False)
    try:
        dockerd.run("pull", target)
        assert docker_image_id(dockerd, target) == built_image.config_digest
        assert dockerd.run("run", "--rm", target, "cat", "/data/hello.txt").stdout == \
            "hello from berth\n"
    finally:
        dockerd.run("rmi", target, check=False)
    # A second push finds everything in place.
    assert "Layer already exists" in berth("push", target).stderr


def test_push_uploads_in_chunks_to_a_new_registry_repo(berth: BerthCli, shared_hub: HubProcess,
                                                       reference_registry: ReferenceRegistry,
                                                       skopeo: Skopeo, oci_layout,
                                                       built_image: BuiltImage) -> None:
    source = f"{shared_hub.host}/upload-test/source:v1"
    skopeo_push(skopeo, oci_layout.reference, source)
    berth("pull", source)
    target = f"{reference_registry.host}/upload-test/copy:v1"
    berth("tag", source, target)
    result = berth("push", target)
    assert result.stderr.count("Pushed") == len(built_image.layers)
    inspect = skopeo.run("inspect", "--tls-verify=false", "--raw", f"docker://{target}")
    assert sha256_digest(inspect.stdout.encode()) == built_image.manifest_digest


def test_blob_with_wrong_digest_is_refused_and_not_stored(tmp_path: Path, berth: BerthCli,
                                                          shared_hub: HubProcess,
                                                          skopeo: Skopeo, oci_layout,
                                                          built_image: BuiltImage) -> None:
    skopeo_push(skopeo, oci_layout.reference, f"{shared_hub.host}/bad-digest/busybox:v1")
    proxy = RegistryProxy(shared_hub.host, corrupt_blobs=True).start()
    try:
        result = berth("pull", f"{proxy.host}/bad-digest/busybox:v1", check=False)
        assert result.returncode == 1
        assert "digest mismatch" in result.stderr and "Traceback" not in result.stderr
        assert berth("images", "-q").stdout == ""
        blobs = berth.root / "content" / "blobs" / "sha256"
        stored = {p.name for p in blobs.iterdir()} if blobs.exists() else set()
        corrupted = {layer.digest.removeprefix("sha256:") for layer in built_image.layers
                     if len(layer.gzipped) > CORRUPT_MIN_SIZE}
        assert corrupted and not stored & corrupted
        proxy.corrupt_blobs = False
        berth("pull", f"{proxy.host}/bad-digest/busybox:v1")
        assert berth_image_id(berth, f"{proxy.host}/bad-digest/busybox:v1") == \
            built_image.config_digest
    finally:
        proxy.stop()


def _big_image(size: int, first_size: int | None = None) -> BuiltImage:
    """Two layers of incompressible bytes: `first_size` (default `size`), then `size`."""
    layers = []
    for n, layer_size in enumerate((first_size or size, size)):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            data = pseudo_random(layer_size, f"resume-{n}".encode())
            info = tarfile.TarInfo(f"big-{n}.bin")
            info.size, info.mtime = len(data), 0
            archive.addfile(info, io.BytesIO(data))
        tar = buffer.getvalue()
        layers.append(Layer(tar, gzip.compress(tar, compresslevel=1, mtime=0), f"layer {n}"))
    config = canonical_json({"architecture": "amd64", "os": "linux", "created": CREATED,
                             "config": {"Cmd": ["sh"]},
                             "rootfs": {"type": "layers",
                                        "diff_ids": [layer.diff_id for layer in layers]}})
    manifest = canonical_json({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256_digest(config), "size": len(config)},
        "layers": [layer.descriptor() for layer in layers]})
    return BuiltImage("amd64", tuple(layers), config, manifest)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_interrupted_pull_leaves_no_image_and_resumes(tmp_path: Path, berth: BerthCli,
                                                      shared_hub: HubProcess,
                                                      skopeo: Skopeo) -> None:
    # A small first layer and a large second one, both sent at a quarter of a MiB a second
    # from the start: the first is complete within a second, the second only after ~16 s, so
    # it is far from complete when the interrupt lands, however loaded the machine. (Slowing
    # down only once the first was stored let the second arrive whole in the meantime.)
    size = 4 * 1024 * 1024
    image = _big_image(size, first_size=64 * 1024)
    layout = write_oci_layout(tmp_path / "big-layout", "v1", image)
    skopeo_push(skopeo, layout.reference, f"{shared_hub.host}/resume/big:v1")
    proxy = RegistryProxy(shared_hub.host, throttle=256 * 1024).start()
    name = f"{proxy.host}/resume/big:v1"
    first, second = (layer.digest.removeprefix("sha256:") for layer in image.layers)
    blobs = berth.root / "content" / "blobs" / "sha256"
    ingest = berth.root / "content" / "ingest"
    berth.env["BERTH_MAX_CONCURRENT_DOWNLOADS"] = "1"
    try:
        # SIGINT at its default, as in a terminal: a runner started in the background of a
        # non-interactive shell passes it on ignored, and then Python never raises
        # KeyboardInterrupt in berth.
        process = berth.popen("pull", name, preexec_fn=_default_sigint)
        try:
            def ingest_sizes() -> list[int]:
                sizes = []
                for path in ingest.glob("*/data"):
                    with contextlib.suppress(FileNotFoundError):  # committed meanwhile
                        sizes.append(path.stat().st_size)
                return sizes

            assert wait_until((blobs / first).exists, 60, interval=0.05)
            assert wait_until(lambda: any(size > 256 * 1024 for size in ingest_sizes()), 60,
                              interval=0.05)
            process.send_signal(signal.SIGINT)
            assert process.wait(30) == 130
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert berth("images", "-q").stdout == ""
        assert not (blobs / second).exists()
        proxy.throttle = None
        proxy.requests.clear()
        result = berth("pull", name)
        assert "Already exists" in result.stderr
        fetched = [r for r in proxy.requests if r.method == "GET" and "/blobs/" in r.path]
        assert not any(first in r.path for r in fetched)
        [resumed] = [r for r in fetched if second in r.path]
        assert resumed.range is not None and resumed.range.startswith("bytes=")
        assert int(resumed.range.removeprefix("bytes=").rstrip("-")) > 256 * 1024
        assert berth_image_id(berth, name) == image.config_digest
    finally:
        proxy.stop()


def test_push_resumes_an_upload_whose_answer_was_lost(request: pytest.FixtureRequest,
                                                      berth: BerthCli, registry_host: str,
                                                      skopeo: Skopeo, oci_layout,
                                                      built_image: BuiltImage) -> None:
    source = f"{registry_host}/retry/source:v1"
    skopeo_push(skopeo, oci_layout.reference, source)
    berth("pull", source)
    proxy = RegistryProxy(registry_host, drop_patches=2).start()
    try:
        target = f"{proxy.host}/retry/copy-{abs(hash(registry_host)) % 1000}:v1"
        berth("tag", source, target)
        berth("push", target)
        patches = [r for r in proxy.requests if r.method == "PATCH"]
        status_checks = [r for r in proxy.requests
                         if r.method == "GET" and "/blobs/uploads/" in r.path]
        assert proxy.drop_patches == 0 and len(status_checks) >= 2
        # Each lost answer was followed by a status query. Our hub answers it, so no byte is
        # sent twice; Distribution refuses a stale session URL, so those blobs go again.
        resent = 0 if request.node.callspec.params["registry_host"] == "hub" else 2
        assert len(patches) == len(built_image.layers) + 1 + resent
        pulled = BerthCli(berth.root.parent / "second-root")
        pulled("pull", target)
        assert berth_image_id(pulled, target) == built_image.config_digest
    finally:
        proxy.stop()


def test_push_goes_on_when_the_answers_to_puts_are_lost(berth: BerthCli,
                                                        shared_hub: HubProcess, skopeo: Skopeo,
                                                        oci_layout,
                                                        built_image: BuiltImage) -> None:
    """A blob whose closing PUT lost its answer is checked again (it is there); a manifest PUT
    is sent again."""
    source = f"{shared_hub.host}/lost-put/source:v1"
    skopeo_push(skopeo, oci_layout.reference, source)
    berth("pull", source)
    blobs = len(built_image.layers) + 1
    proxy = RegistryProxy(shared_hub.host, drop_upload_puts=blobs, drop_manifest_puts=2).start()
    try:
        target = f"{proxy.host}/lost-put/copy:v1"
        berth("tag", source, target)
        result = berth("push", target)
        assert (proxy.drop_upload_puts, proxy.drop_manifest_puts) == (0, 0)
        assert "Retrying in 1 second" in result.stderr
        pulled = BerthCli(berth.root.parent / "second-root")
        pulled("pull", target)
        assert berth_image_id(pulled, target) == built_image.config_digest
    finally:
        proxy.stop()


def test_push_to_a_registry_that_is_down_fails_at_once(berth: BerthCli, shared_hub: HubProcess,
                                                       skopeo: Skopeo, oci_layout) -> None:
    source = f"{shared_hub.host}/down/source:v1"
    skopeo_push(skopeo, oci_layout.reference, source)
    berth("pull", source)
    target = f"127.0.0.1:{free_port()}/down/copy:v1"
    berth("tag", source, target)
    result = berth("push", target, check=False)
    assert result.returncode == 1
    assert "Cannot connect to host" in result.stderr
    assert "Retrying" not in result.stderr


def test_two_pulls_at_once_into_one_root(berth: BerthCli, shared_hub: HubProcess,
                                         skopeo: Skopeo, multiarch_layout,
                                         multiarch_index) -> None:
    repo = f"{shared_hub.host}/concurrent/busybox"
    skopeo_push(skopeo, multiarch_layout.reference, f"{repo}:multi", "--all")
    amd64, arm64 = multiarch_index.images
    # Same layers (two are shared by both platforms), same database, two processes.
    first = berth.popen("pull", f"{repo}:multi", stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
    second = berth.popen("pull", "--platform", "linux/arm64", f"{repo}@{multiarch_index.digest}",
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for process in (first, second):
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    ids = set(berth("images", "-q", "--no-trunc").stdout.split())
    assert ids == {amd64.config_digest, arm64.config_digest}
    assert not list((berth.root / "content" / "ingest").iterdir())
    # Both images are whole: each can be saved (every blob read back and verified).
    berth("save", "-o", str(berth.root.parent / "both.tar"), f"{repo}:multi",
          arm64.config_digest)
