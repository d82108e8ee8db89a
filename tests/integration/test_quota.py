"""Namespace quotas seen by real clients: `docker push` and `skopeo copy` over the limit fail
with the hub's message, leave nothing tagged, and `berth-hub quota` sets and shows the quota."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.commands import CommandError
from tests.support.dockerd import DockerDaemon
from tests.support.http import http_request
from tests.support.hub import HubProcess, run_hub_cli
from tests.support.images import (
    DOCKER_ARCHIVE_TAG,
    BuiltImage,
    OciLayout,
    build_image,
    write_oci_layout,
)
from tests.support.skopeo import Skopeo

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.skopeo]

REFUSAL = re.compile(r"quota exceeded: namespace team would use [^\n]+ of its [^\n]+ quota")


def used_bytes(hub: HubProcess) -> int:
    """The namespace's usage as `berth-hub quota show` prints it (the open registry's API has
    no accounts to manage namespaces with)."""
    shown = run_hub_cli(hub, "quota", "show", "team")
    assert shown.returncode == 0, shown.stderr
    found = re.search(r"team: uses [^(]+\((\d+) bytes\)", shown.stdout)
    assert found, shown.stdout
    return int(found.group(1))


def manifest_status(hub: HubProcess, name: str, tag: str) -> int:
    return http_request("HEAD", f"{hub.url}/v2/{name}/manifests/{tag}").status


def test_pushes_over_a_quota_fail_with_its_message(
    hub: HubProcess,
    dockerd: DockerDaemon,
    docker_archive: Path,
    skopeo: Skopeo,
    oci_layout: OciLayout,
    built_image: BuiltImage,
    tmp_path: Path,
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{hub.host}/team/base:v1", "--preserve-digests")
    used = used_bytes(hub)
    assert used == len(built_image.manifest) + len(built_image.config) + sum(
        len(layer.gzipped) for layer in built_image.layers
    )
    # Room for a few hundred bytes more: no image the test pushes fits.
    limit = used + 300
    set_ = run_hub_cli(hub, "quota", "set", "team", str(limit))
    assert set_.returncode == 0, set_.stderr
    assert "team: uses" in set_.stdout and f"({limit} bytes) quota" in set_.stdout

    # skopeo: another platform's image shares two layers and still does not fit.
    arm64 = write_oci_layout(tmp_path / "arm64", "v1", build_image("arm64", built_image.layers[:2]))
    with pytest.raises(CommandError) as refused:
        skopeo.copy(arm64.reference, f"docker://{hub.host}/team/arm:v1", "--preserve-digests")
    assert REFUSAL.search(refused.value.stderr), refused.value.stderr
    assert manifest_status(hub, "team/arm", "v1") == 404

    # docker: the CLI prints the registry's message after `denied:`.
    target = f"{hub.host}/team/app:v1"
    dockerd.run("load", "--input", str(docker_archive))
    dockerd.run("tag", DOCKER_ARCHIVE_TAG, target)
    try:
        pushed = dockerd.run("push", target, check=False)
        assert pushed.returncode != 0
        assert REFUSAL.search(pushed.stderr + pushed.stdout), pushed.stderr
        assert "denied" in pushed.stderr + pushed.stdout, pushed.stderr
        assert manifest_status(hub, "team/app", "v1") == 404
        assert used_bytes(hub) == used

        shown = run_hub_cli(hub, "quota", "show", "team")
        assert shown.returncode == 0 and f"({used} bytes) of its" in shown.stdout, shown
        listed = run_hub_cli(hub, "quota", "ls", "--format", "json")
        assert json.loads(listed.stdout) == [
            {
                "namespace": "team",
                "limit_bytes": limit,
                "used_bytes": used,
                "percent": round(100 * used / limit, 2),
            }
        ]
        table = run_hub_cli(hub, "quota", "ls").stdout.splitlines()
        assert table[0].split() == ["NAMESPACE", "USED", "LIMIT", "PERCENT"]
        assert table[1].split()[0] == "team" and table[1].endswith("%")

        # Without the quota the same push goes through.
        removed = run_hub_cli(hub, "quota", "set", "team", "none")
        assert removed.returncode == 0 and "no quota" in removed.stdout, removed
        dockerd.run("push", target)
        assert manifest_status(hub, "team/app", "v1") == 200
        assert used_bytes(hub) > used
    finally:
        dockerd.run("rmi", "--force", target, DOCKER_ARCHIVE_TAG, check=False)


def test_quota_command_refuses_bad_sizes_and_unknown_namespaces(hub: HubProcess) -> None:
    bad = run_hub_cli(hub, "quota", "set", "team", "2G")
    assert bad.returncode == 2 and "unknown unit 'G'" in bad.stderr
    unknown = run_hub_cli(hub, "quota", "set", "nobody", "1GiB")
    assert unknown.returncode == 1 and "no namespace 'nobody'" in unknown.stderr
    empty = run_hub_cli(hub, "quota", "ls")
    assert empty.returncode == 0 and empty.stdout.split() == [
        "NAMESPACE",
        "USED",
        "LIMIT",
        "PERCENT",
    ]
