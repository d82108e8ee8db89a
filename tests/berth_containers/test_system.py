"""`system df` and `system prune [--volumes]` (root only)."""

from __future__ import annotations

import pytest

from tests.support.berth_cli import BerthCli

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_system_df_and_prune(clean: BerthCli, image: str) -> None:
    clean("run", "--name", "done", "-v", "scratchvol:/scratch", "-v", "/anon", image, "sh",
          "-c", "echo data > /scratch/f; echo x > /anon/f; echo x > /root/y")
    anonymous = clean("inspect", "-f", "{{range .Mounts}}{{if eq .Destination \"/anon\"}}"
                      "{{.Name}}{{end}}{{end}}", "done").stdout.strip()
    clean("network", "create", "leftover")
    df = clean("system", "df").stdout.splitlines()
    assert df[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    types = [line.split("  ")[0].strip() for line in df[1:]]
    assert types == ["Images", "Containers", "Local Volumes", "Build Cache"]
    containers = df[2].split()
    assert containers[1:3] == ["1", "0"]
    pruned = clean("system", "prune", "-f", "--volumes").stdout
    assert "Deleted Containers:" in pruned and "leftover" in pruned
    # As with Docker 23+, --volumes prunes anonymous volumes; named ones stay.
    assert f"Deleted Volumes:\n{anonymous}\n" in pruned
    assert clean("volume", "ls", "-q").stdout == "scratchvol\n"
    assert "Total reclaimed space:" in pruned
    assert clean("ps", "-aq").stdout == ""
    assert "leftover" not in clean("network", "ls").stdout
    assert clean("images", "-q").stdout.strip()  # tagged images stay without -a
