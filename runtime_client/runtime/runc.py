"""A thin wrapper over an OCI runtime binary (runc by default, crun with `--runtime crun`).

Only lifecycle verbs that berth calls directly live here (`state`, `start`, `kill`, `pause`,
`resume`, `delete`, `ps`, `events --stats`, `exec`); `create` is run by conmon, which
supervises the container process (see `runtime.conmon`).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime_client.container_errors import InvalidOptionError, OciRuntimeError

logger = logging.getLogger(__name__)

# runc is the default: crun 1.8 refuses this host's hybrid cgroup layout.
DEFAULT_RUNTIME = "runc"
KNOWN_RUNTIMES = ("runc", "crun")


def runtime_path(name: str) -> str:
    """Absolute path of a runtime binary.

    Raises:
        InvalidOptionError: unknown runtime or not installed.
    """
    if name not in KNOWN_RUNTIMES and not name.startswith("/"):
        raise InvalidOptionError(f"unknown or invalid runtime name: {name}")
    path = shutil.which(name)
    if path is None:
        raise InvalidOptionError(f"runtime {name} is not installed")
    return path


@dataclass(frozen=True)
class OciRuntime:
    """An OCI runtime binary with its state directory (`--root`)."""

    binary: str
    state_root: Path

    def _argv(self, *args: str) -> list[str]:
        return [self.binary, "--root", str(self.state_root), *args]

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self._argv(*args), capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise OciRuntimeError(
                f"{Path(self.binary).name} {args[0]} failed: {proc.stderr.strip()}")
        return proc

    def state(self, container_id: str) -> dict[str, Any] | None:
        """The runtime's state JSON, or None when it does not know the container."""
        proc = self._run("state", container_id, check=False)
        if proc.returncode != 0:
            return None
        return json.loads(proc.stdout)

    def start(self, container_id: str) -> None:
        self._run("start", container_id)

    def kill(self, container_id: str, signal: str, all_processes: bool = False) -> None:
        self._run("kill", *(["--all"] if all_processes else []), container_id, signal)

    def pause(self, container_id: str) -> None:
        self._run("pause", container_id)

    def resume(self, container_id: str) -> None:
        self._run("resume", container_id)

    def knows(self, container_id: str) -> bool:
        """True when the runtime has state for the container (cheaper than `state`)."""
        return (self.state_root / container_id).exists()

    def delete(self, container_id: str) -> None:
        """Forget a container (forcefully: kills what is left); no-op when unknown."""
        if self.knows(container_id):
            self._run("delete", "--force", container_id, check=False)

    def ps(self, container_id: str, ps_args: list[str]) -> str:
        """`ps` output restricted to the container's processes."""
        return self._run("ps", container_id, *ps_args).stdout

    def stats(self, container_id: str) -> dict[str, Any]:
        """One `events --stats` sample (CPU, memory, pids, blkio from the cgroup)."""
        return json.loads(self._run("events", "--stats", container_id).stdout)["data"]

    def exec_argv(self, container_id: str, process_file: Path, tty: bool) -> list[str]:
        """The command line of a foreground `exec` (runc copies the pty itself with -t)."""
        return self._argv("exec", *(["-t"] if tty else []), "--process", str(process_file),
                          container_id)
