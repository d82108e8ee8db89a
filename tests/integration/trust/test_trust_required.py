"""A repository that requires content trust serves signed tags and refuses the rest.

The real Docker CLI and dockerd push (one tag signed with DCT, one unsigned) to a hub over
TLS; `berth-hub repo trust-required` turns the gate on. Docker pulls, with and without
`DOCKER_CONTENT_TRUST`, and `berth pull` (through a second hub process on the same data
directory, over plain HTTP as berth speaks to loopback registries; the GUN Docker signed
under names the TLS port, and the gate accepts any host prefix of the repository).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from registry.tlscerts import make_dev_certificates
from tests.integration.trust.test_docker_trust_against_berth import Docker, Setup
from tests.support.berth_cli import BerthCli
from tests.support.dockerd import docker_cli
from tests.support.hub import HubProcess, repo_env
from tests.support.images import DOCKER_ARCHIVE_TAG

pytestmark = [pytest.mark.slow, pytest.mark.docker]


def hub_admin(data_dir, *args: str) -> str:
    """Run `berth-hub ARGS... --data DATA` of this worktree; its stdout."""
    result = subprocess.run(
        [sys.executable, "-m", "registry", *args, "--data", str(data_dir)],
        env=repo_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_docker_and_berth_pull_only_signed_tags(dockerd, docker_archive, tmp_path):
    if docker_cli() is None:
        pytest.skip("no docker CLI")
    certificates = make_dev_certificates(tmp_path / "tls")
    hub = HubProcess(tmp_path / "data", tmp_path / "hub.log", tls=certificates)
    plain = HubProcess(tmp_path / "data", tmp_path / "plain.log")
    hub.start()
    try:
        plain.start()
        setup = Setup(hub.host, hub.url, certificates.ca_cert)
        docker = Docker(dockerd, tmp_path / "author", setup)
        docker("load", "--input", str(docker_archive))
        name = f"{hub.host}/gated/app"
        docker("tag", DOCKER_ARCHIVE_TAG, f"{name}:signed")
        docker("tag", DOCKER_ARCHIVE_TAG, f"{name}:unsigned")
        docker("push", f"{name}:signed")
        # Unsigned pushes stay allowed (Docker pushes before it publishes trust data).
        docker("push", f"{name}:unsigned", trust=False)
        shown = hub_admin(hub.data_dir, "repo", "trust-required", "gated/app", "on")
        assert "content trust required" in shown

        docker("rmi", f"{name}:signed", f"{name}:unsigned", DOCKER_ARCHIVE_TAG)
        docker("pull", f"{name}:signed")  # DCT: resolved through trust, pulled by digest
        docker("rmi", f"{name}:signed")
        docker("pull", f"{name}:signed", trust=False)  # the hub checks the tag itself
        refused = docker("pull", f"{name}:unsigned", trust=False, check=False)
        assert refused.returncode != 0
        assert "content trust required" in refused.stderr, refused.stderr
        assert "denied" in refused.stderr, refused.stderr
        refused = docker("pull", f"{name}:unsigned", check=False)
        assert refused.returncode != 0  # Docker's own check: no trust data for the tag

        berth = BerthCli(tmp_path / "berth")
        served = f"{plain.host}/gated/app"
        berth("pull", f"{served}:signed")
        failed = berth("pull", f"{served}:unsigned", check=False)
        assert failed.returncode != 0
        assert "content trust required" in failed.stderr, failed.stderr

        # Off again: the unsigned tag is served to both.
        hub_admin(hub.data_dir, "repo", "trust-required", "gated/app", "off")
        berth("pull", f"{served}:unsigned")
        docker("pull", f"{name}:unsigned", trust=False)
    finally:
        plain.stop()
        hub.stop()
