"""Named network namespaces (`ip netns`), one per container on a bridge network."""

from __future__ import annotations

import subprocess
from pathlib import Path

from runtime_client.container_errors import NetworkError

NETNS_DIR = Path("/run/netns")


def netns_path(name: str) -> Path:
    return NETNS_DIR / name


def create(name: str) -> Path:
    """Create a named namespace; return its path (netavark brings loopback up)."""
    if not netns_path(name).exists():
        proc = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            raise NetworkError(f"cannot create network namespace {name}: {proc.stderr.strip()}")
    return netns_path(name)


def delete(name: str) -> None:
    """Remove a named namespace if it exists."""
    if netns_path(name).exists():
        subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)
