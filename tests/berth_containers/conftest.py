"""Fixtures for berth's container tests (root only): a berth root, the busybox test image
pulled from a hub, dockerd with the same image for the parity modules, and cleanup of
everything the tests made (containers, mounts, network namespaces, netavark's iptables chains,
bridges) even when a test fails."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime_client.layout import Layout
from tests.support.berth_cli import BerthCli
from tests.support.dockerd import DockerDaemon
from tests.support.hub import HubProcess
from tests.support.images import OciLayout
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.root

IMAGE_REPO = "berth-test/busybox"
# The user network the parity modules create on dockerd (removed with the `docker` fixture).
PARITY_NETWORK = "berth-parity"


def _iptables_chains(table: str) -> list[str]:
    out = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True,
                         check=False).stdout
    return [line.split()[1] for line in out.splitlines() if line.startswith("-N NETAVARK")]


def _remove_netavark_leftovers() -> None:
    """Drop netavark's shared chains once no berth bridge is left (netavark keeps them)."""
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                           check=False).stdout
    if any(": berth" in line for line in links.splitlines()):
        return
    for table in ("nat", "filter"):
        rules = subprocess.run(["iptables", "-t", table, "-S"], capture_output=True, text=True,
                               check=False).stdout.splitlines()
        for rule in rules:
            words = shlex.split(rule)
            if words[0] == "-A" and "NETAVARK" in rule and not words[1].startswith("NETAVARK"):
                subprocess.run(["iptables", "-t", table, "-D", *words[1:]],
                               capture_output=True, check=False)
        chains = _iptables_chains(table)
        for chain in chains:
            subprocess.run(["iptables", "-t", table, "-F", chain], capture_output=True,
                           check=False)
        for chain in chains:
            subprocess.run(["iptables", "-t", table, "-X", chain], capture_output=True,
                           check=False)


def clean_root(berth: BerthCli) -> None:
    """Remove every container, network and volume of this root, then anything they left
    behind."""
    ids = berth("ps", "-aq", "--no-trunc", check=False).stdout.split()
    if ids:
        berth("rm", "-f", *ids, check=False)
    berth("network", "prune", "-f", check=False)
    berth("volume", "prune", "-a", "-f", check=False)
    root = str(berth.root.resolve())
    with open("/proc/self/mounts") as f:
        targets = [line.split()[1] for line in f if line.split()[1].startswith(root)]
    for target in reversed(targets):
        subprocess.run(["umount", "-l", target], capture_output=True, check=False)
    containers = berth.root / "containers"
    if containers.exists():
        for entry in containers.iterdir():
            subprocess.run(["ip", "netns", "delete", f"berth-{entry.name[:12]}"],
                           capture_output=True, check=False)


def _remove_cgroup_parents() -> None:
    """runc leaves berth's parent cgroup (`/berth`) in each v1 hierarchy; drop the empty ones."""
    hierarchies = Path("/sys/fs/cgroup")
    if not hierarchies.is_dir():
        return
    for hierarchy in hierarchies.iterdir():
        with contextlib.suppress(OSError):
            (hierarchy / "berth").rmdir()


@pytest.fixture(scope="session")
def berth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BerthCli]:
    """`berth` with a private root; the root is emptied at the end of the session."""
    if os.geteuid() != 0:
        pytest.skip("berth containers need root")
    cli = BerthCli(tmp_path_factory.mktemp("berth-root"))
    try:
        yield cli
    finally:
        clean_root(cli)
        _remove_netavark_leftovers()
        _remove_cgroup_parents()
        shutil.rmtree(Layout(cli.root).run, ignore_errors=True)  # runc state, on /run


@pytest.fixture
def clean(berth: BerthCli) -> Iterator[BerthCli]:
    """`berth`, with every container, network and volume a test made removed after it."""
    try:
        yield berth
    finally:
        clean_root(berth)


@pytest.fixture(scope="session")
def image(berth: BerthCli, shared_hub: HubProcess, skopeo: Skopeo,
          oci_layout: OciLayout) -> str:
    """The busybox test image, pushed to the shared hub and pulled by berth."""
    ref = f"{shared_hub.host}/{IMAGE_REPO}:v1"
    skopeo.copy(oci_layout.reference, f"docker://{ref}")
    berth("pull", ref)
    return ref


@pytest.fixture
def host_dir(tmp_path: Path) -> Path:
    """A host directory for bind mounts and copies."""
    path = tmp_path / "host"
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def docker(dockerd: DockerDaemon, docker_archive: Path) -> Iterator[DockerDaemon]:
    """dockerd with the test image loaded; removes the containers and network it made.

    Every container that was not there before goes, labelled or not: one left behind holds
    the test image, and later modules' `docker rmi` of it would fail.
    """
    before = set(dockerd.run("ps", "-aq", "--no-trunc").stdout.split())
    dockerd.run("load", "-i", str(docker_archive))
    try:
        yield dockerd
    finally:
        ids = set(dockerd.run("ps", "-aq", "--no-trunc", check=False).stdout.split()) - before
        if ids:
            dockerd.run("rm", "-f", *sorted(ids))
        dockerd.run("network", "rm", PARITY_NETWORK, check=False)
