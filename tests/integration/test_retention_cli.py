"""Retention from the command line against a running hub's data: policy, dry run, real run,
history."""

from __future__ import annotations

import json

from tests.support.http import http_request
from tests.support.hub import HubProcess
from tests.support.hub import run_hub_cli as hub_cli
from tests.support.images import BuiltImage
from tests.support.upload import push_image

TAGS = ["t1", "t2", "t3", "t4", "t5"]  # pushed in this order


def listed_tags(hub: HubProcess) -> list[str]:
    return json.loads(http_request("GET", f"{hub.url}/v2/cli/kept/tags/list").body)["tags"]


def test_retention_from_the_command_line(hub: HubProcess, built_image: BuiltImage) -> None:
    for tag in TAGS:
        push_image(hub.url, "cli/kept", tag, built_image)
    assert "no retention policy" in hub_cli(hub, "repo", "retention", "cli/kept").stdout
    bad = hub_cli(hub, "repo", "retention", "cli/kept", "--set", '{"keep_newest": "x"}')
    assert bad.returncode == 1 and "invalid retention policy" in bad.stderr

    set_ = hub_cli(hub, "org", "retention", "cli", "--set", '{"keep_newest": 2}')
    assert set_.returncode == 0, set_.stderr
    shown = hub_cli(hub, "repo", "retention", "cli/kept").stdout
    assert "its namespace cli's" in shown and '"keep_newest": 2' in shown

    dry = hub_cli(hub, "repo", "retention-run", "cli/kept")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == ["cli/kept: would remove 3 tags, kept 2", "t1", "t2", "t3"]
    assert listed_tags(hub) == TAGS

    real = hub_cli(hub, "repo", "retention-run", "cli/kept", "--delete")
    assert real.returncode == 0, real.stderr
    assert real.stdout.splitlines()[1:] == ["t1", "t2", "t3"]
    assert listed_tags(hub) == ["t4", "t5"]

    history = hub_cli(hub, "repo", "retention-runs", "cli/kept").stdout.splitlines()
    assert [line.split("\t")[2:] for line in history[1:]] == [
        ["(cli)", "no", "3", "2"],
        ["(cli)", "yes", "3", "2"],
    ]
