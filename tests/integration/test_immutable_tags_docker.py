"""The real Docker CLI cannot push another image over an immutable tag; it shows the rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.dockerd import DockerDaemon
from tests.support.http import http_request
from tests.support.hub import HubProcess
from tests.support.images import DOCKER_ARCHIVE_TAG, OciLayout
from tests.support.skopeo import Skopeo

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.skopeo]


def test_docker_push_over_an_immutable_tag_is_refused(
    dockerd: DockerDaemon,
    docker_archive: Path,
    shared_hub: HubProcess,
    skopeo: Skopeo,
    oci_layout: OciLayout,
) -> None:
    held = f"{shared_hub.host}/docker-immutable/app:v1"
    skopeo.copy(oci_layout.reference, f"docker://{held}", "--preserve-digests")
    added = http_request(
        "POST",
        f"{shared_hub.url}/api/v1/repositories/docker-immutable/app/immutable-tags",
        body=json.dumps({"pattern": "v*"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert added.status == 201, added.body

    dockerd.run("load", "--input", str(docker_archive))
    dockerd.run("tag", DOCKER_ARCHIVE_TAG, held)
    try:
        # docker pushes a schema 2 manifest: another digest than the OCI one held by v1.
        pushed = dockerd.run("push", held, check=False)
        assert pushed.returncode != 0
        assert "immutable" in pushed.stderr and "'v*'" in pushed.stderr, pushed.stderr
        assert skopeo.inspect_json(f"docker://{held}")["Digest"] == oci_layout.root_digest
    finally:
        dockerd.run("rmi", "--force", held, DOCKER_ARCHIVE_TAG, check=False)
