"""Retention with the real Docker CLI and `berth`: docker pushes the tags, berth pulls one,
and a run keeps exactly the newest tags and the pulled one; a dry run first names what the
real run then removes, and docker can no longer pull a removed tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon
from tests.support.http import http_request
from tests.support.hub import HubProcess
from tests.support.images import DOCKER_ARCHIVE_TAG

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = "docker-retention/app"
TAGS = [f"v{i}" for i in range(1, 7)]  # pushed in this order: v6 is the newest
POLICY = {"keep_newest": 2, "keep_pulled_days": 7}


def api(hub: HubProcess, method: str, path: str, document: object = None) -> object:
    body = None if document is None else json.dumps(document).encode()
    resp = http_request(
        method,
        f"{hub.url}/api/v1/repositories/{REPO}/{path}",
        body=body,
        headers={"Content-Type": "application/json"},
    )
    assert resp.status in (200, 201), resp.body
    return json.loads(resp.body)


def listed_tags(hub: HubProcess) -> list[str]:
    return json.loads(http_request("GET", f"{hub.url}/v2/{REPO}/tags/list").body)["tags"]


def test_retention_keeps_the_newest_and_the_pulled_tags(
    dockerd: DockerDaemon, docker_archive: Path, shared_hub: HubProcess, tmp_path: Path
) -> None:
    names = [f"{shared_hub.host}/{REPO}:{tag}" for tag in TAGS]
    dockerd.run("load", "--input", str(docker_archive))
    try:
        for name in names:
            dockerd.run("tag", DOCKER_ARCHIVE_TAG, name)
            dockerd.run("push", name)
        berth = BerthCli(tmp_path / "berth-root")
        berth("pull", names[1])  # v2: old, but pulled just now
        assert api(shared_hub, "PUT", "retention", {"policy": POLICY})["policy"] == POLICY

        dry = api(shared_hub, "POST", "retention/runs", {"dry_run": True})
        assert dry["removed"] == ["v1", "v3", "v4"], dry
        assert listed_tags(shared_hub) == TAGS

        real = api(shared_hub, "POST", "retention/runs", {"dry_run": False})
        assert real["removed"] == dry["removed"] and real["kept"] == 3, real
        assert listed_tags(shared_hub) == ["v2", "v5", "v6"]

        dockerd.run("rmi", *names)
        gone = dockerd.run("pull", names[0], check=False)
        assert gone.returncode != 0 and "not found" in gone.stderr, gone.stderr
        dockerd.run("pull", names[4])
        refused = berth("pull", names[2], check=False)
        assert refused.returncode != 0 and "v3" in refused.stderr, refused.stderr
    finally:
        dockerd.run("rmi", "--force", DOCKER_ARCHIVE_TAG, *names, check=False)
