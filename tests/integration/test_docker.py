"""A real dockerd pushes to, pulls from and runs an image out of a hub process.

Issue 2 "Must show": `docker load` of the busybox test image, `docker tag` and `docker push`
to `127.0.0.1:PORT/...` (insecure by default for loopback), `docker rmi`, `docker pull` by tag
and by digest, and `docker run --rm IMAGE echo hello`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry.oci import mediatypes
from tests.support.dockerd import DockerDaemon
from tests.support.http import http_request
from tests.support.hub import HubProcess
from tests.support.images import DOCKER_ARCHIVE_TAG, BuiltImage, OciLayout
from tests.support.skopeo import Skopeo

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64}) size: \d+")


@pytest.fixture
def pushed_name(shared_hub: HubProcess, dockerd: DockerDaemon) -> Iterator[str]:
    """The hub repository name tests push to; local images under it are removed afterwards."""
    name = f"{shared_hub.host}/docker/busybox"
    try:
        yield name
    finally:
        # By id: an image pulled by digest has no tag to remove it by.
        ids = dockerd.run("image", "ls", "--quiet", "--no-trunc", name, check=False).stdout
        for image in [*set(ids.split()), DOCKER_ARCHIVE_TAG]:
            dockerd.run("rmi", "--force", image, check=False)


def test_push_pull_and_run(
    dockerd: DockerDaemon, docker_archive: Path, pushed_name: str, shared_hub: HubProcess,
    built_image: BuiltImage,
) -> None:
    loaded = dockerd.run("load", "--input", str(docker_archive))
    assert DOCKER_ARCHIVE_TAG in loaded.stdout
    image = f"{pushed_name}:v1"
    dockerd.run("tag", DOCKER_ARCHIVE_TAG, image)

    pushed = dockerd.run("push", image)
    match = PUSHED_DIGEST.search(pushed.stdout)
    assert match, pushed.stdout
    digest = match.group(1)

    # The hub serves what docker pushed: a schema 2 manifest over our three layers.
    manifest = http_request(
        "GET", f"{shared_hub.url}/v2/docker/busybox/manifests/v1",
        headers={"Accept": f"{mediatypes.DOCKER_MANIFEST}, {mediatypes.OCI_MANIFEST}"})
    assert manifest.status == 200
    assert manifest.headers["Docker-Content-Digest"] == digest
    assert manifest.json()["config"]["digest"] == built_image.config_digest
    assert len(manifest.json()["layers"]) == len(built_image.layers)

    dockerd.run("rmi", image, DOCKER_ARCHIVE_TAG)
    assert dockerd.run("image", "inspect", image, check=False).returncode != 0

    pulled = dockerd.run("pull", image)
    assert digest in pulled.stdout
    inspected = dockerd.run("image", "inspect", "--format", "{{.Id}} {{.Architecture}}", image)
    assert inspected.stdout.split() == [built_image.config_digest, "amd64"]

    assert dockerd.run("run", "--rm", image, "echo", "hello").stdout == "hello\n"
    assert dockerd.run("run", "--rm", image, "cat", "/data/hello.txt").stdout == (
        "hello from berth\n")


def test_pull_by_digest(
    dockerd: DockerDaemon, docker_archive: Path, pushed_name: str
) -> None:
    dockerd.run("load", "--input", str(docker_archive))
    image = f"{pushed_name}:by-digest"
    dockerd.run("tag", DOCKER_ARCHIVE_TAG, image)
    match = PUSHED_DIGEST.search(dockerd.run("push", image).stdout)
    assert match
    dockerd.run("rmi", image, DOCKER_ARCHIVE_TAG)

    dockerd.run("pull", f"{pushed_name}@{match.group(1)}")

    shown = dockerd.run("run", "--rm", f"{pushed_name}@{match.group(1)}", "cat",
                        "/etc/berth-platform")
    assert shown.stdout == "linux/amd64\n"


def test_push_to_a_second_repository_mounts_the_layers(
    dockerd: DockerDaemon, docker_archive: Path, pushed_name: str, shared_hub: HubProcess,
) -> None:
    dockerd.run("load", "--input", str(docker_archive))
    first, second = f"{pushed_name}:mount-source", f"{shared_hub.host}/docker/mounted:v1"
    dockerd.run("tag", DOCKER_ARCHIVE_TAG, first)
    dockerd.run("tag", DOCKER_ARCHIVE_TAG, second)
    dockerd.run("push", first)

    try:
        pushed = dockerd.run("push", second)
        # dockerd asks for a cross-repository mount of layers it pushed elsewhere on this hub.
        assert "Mounted from docker/busybox" in pushed.stdout, pushed.stdout
        tags = http_request("GET", f"{shared_hub.url}/v2/docker/mounted/tags/list")
        assert tags.json()["tags"] == ["v1"]
    finally:
        dockerd.run("rmi", "--force", second, check=False)


@pytest.mark.skopeo
def test_docker_pulls_its_platform_from_a_multiarch_index(
    dockerd: DockerDaemon, skopeo: Skopeo, multiarch_layout: OciLayout,
    shared_hub: HubProcess, built_image: BuiltImage,
) -> None:
    image = f"{shared_hub.host}/docker/multiarch:multi"
    skopeo.copy(multiarch_layout.reference, f"docker://{image}", "--all", "--preserve-digests")

    try:
        pulled = dockerd.run("pull", image)
        assert multiarch_layout.root_digest in pulled.stdout
        inspected = dockerd.run("image", "inspect", "--format", "{{.Id}}", image)
        assert inspected.stdout.strip() == built_image.config_digest
        shown = dockerd.run("run", "--rm", image, "cat", "/etc/berth-platform")
        assert shown.stdout == "linux/amd64\n"
    finally:
        dockerd.run("rmi", "--force", image, check=False)
