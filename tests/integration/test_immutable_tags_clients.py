"""Immutable tags seen by real clients: skopeo and `berth push` putting another image over a
held tag, and the rules managed with `berth-hub`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.berth_cli import BerthCli
from tests.support.commands import CommandError
from tests.support.http import http_request
from tests.support.hub import HubProcess, run_hub_cli
from tests.support.images import BuiltImage, OciLayout, build_image, write_oci_layout
from tests.support.skopeo import Skopeo
from tests.support.upload import push_image


@pytest.mark.skopeo
def test_skopeo_cannot_overwrite_or_delete_an_immutable_tag(
    shared_hub: HubProcess,
    skopeo: Skopeo,
    oci_layout: OciLayout,
    built_image: BuiltImage,
    tmp_path: Path,
) -> None:
    other = write_oci_layout(tmp_path / "arm64", "v1", build_image("arm64", built_image.layers[:2]))
    remote = f"docker://{shared_hub.host}/skopeo/immutable:v1"
    skopeo.copy(oci_layout.reference, remote, "--preserve-digests")
    added = http_request(
        "POST",
        f"{shared_hub.url}/api/v1/repositories/skopeo/immutable/immutable-tags",
        body=json.dumps({"pattern": "v*"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert added.status == 201, added.body

    # The same image again is fine; another image over the tag is refused with the rule.
    skopeo.copy(oci_layout.reference, remote, "--preserve-digests")
    with pytest.raises(CommandError) as refused:
        skopeo.copy(other.reference, remote, "--preserve-digests")
    assert "immutable" in refused.value.stderr and "'v*'" in refused.value.stderr
    assert skopeo.inspect_json(remote)["Digest"] == oci_layout.root_digest

    deleted = skopeo.delete(remote, check=False)
    assert deleted.returncode != 0 and "immutable" in deleted.stderr
    assert skopeo.inspect_json(remote)["Digest"] == oci_layout.root_digest


def test_rules_from_the_command_line(hub: HubProcess, built_image: BuiltImage) -> None:
    push_image(hub.url, "cli/app", "v1", built_image)
    added = run_hub_cli(hub, "repo", "immutable", "cli/app", "--add", "v*")
    assert added.returncode == 0, added.stderr
    rule_id = added.stdout.split()[1].rstrip(":")
    listed = run_hub_cli(hub, "repo", "immutable", "cli/app").stdout
    assert f"{rule_id}\tcli/app\tv*\t" in listed
    assert "no immutability rules" in run_hub_cli(hub, "org", "immutable", "cli").stdout
    bad = run_hub_cli(hub, "repo", "immutable", "cli/app", "--add", "v/1")
    assert bad.returncode == 1 and "tag pattern" in bad.stderr

    refused = http_request("DELETE", f"{hub.url}/v2/cli/app/manifests/v1")
    assert refused.status == 403 and b"immutable" in refused.body
    removed = run_hub_cli(hub, "repo", "immutable", "cli/app", "--remove", rule_id)
    assert removed.returncode == 0, removed.stderr
    assert http_request("DELETE", f"{hub.url}/v2/cli/app/manifests/v1").status == 202


@pytest.mark.skopeo
def test_berth_push_over_an_immutable_tag_fails_with_the_rule(
    shared_hub: HubProcess,
    skopeo: Skopeo,
    oci_layout: OciLayout,
    built_image: BuiltImage,
    tmp_path: Path,
) -> None:
    held = f"{shared_hub.host}/berth-immutable/app:v1"
    other = f"{shared_hub.host}/berth-immutable/other:v1"
    skopeo.copy(oci_layout.reference, f"docker://{held}", "--preserve-digests")
    arm64 = write_oci_layout(tmp_path / "arm64", "v1", build_image("arm64", built_image.layers[:2]))
    skopeo.copy(arm64.reference, f"docker://{other}", "--preserve-digests")
    added = http_request(
        "POST",
        f"{shared_hub.url}/api/v1/repositories/berth-immutable/app/immutable-tags",
        body=json.dumps({"pattern": "v*"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert added.status == 201, added.body

    berth = BerthCli(tmp_path / "berth")
    berth("pull", other)
    berth("tag", other, held)
    pushed = berth("push", held, check=False)
    assert pushed.returncode != 0
    assert "immutable" in pushed.stderr and "'v*'" in pushed.stderr
    assert skopeo.inspect_json(f"docker://{held}")["Digest"] == oci_layout.root_digest
