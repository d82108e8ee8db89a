"""Run the `berth` CLI of this worktree as a subprocess, with its own root directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.commands import run_command
from tests.support.hub import REPO_ROOT, repo_env

__all__ = ["BerthCli"]


class BerthCli:
    """`python3 -m runtime_client --root ROOT ...` with a private Docker config directory.

    Args:
        root: the berth root (a temporary directory, never /var/lib/berth).
        env: extra environment (e.g. `BERTH_DEFAULT_REGISTRY`).
    """

    def __init__(self, root: Path, env: dict[str, str] | None = None) -> None:
        self.root = Path(root)
        self.env = repo_env({"DOCKER_CONFIG": str(self.root / "docker-config"), **(env or {})})

    def command(self, *args: str) -> list[str]:
        """The argv that runs `berth ARGS...`."""
        return [sys.executable, "-m", "runtime_client", "--root", str(self.root), *args]

    def __call__(self, *args: str, check: bool = True, input: bytes | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run `berth ARGS...`, capturing text output."""
        return run_command(self.command(*args), env=self.env, check=check, input=input,
                           timeout=timeout)

    def popen(self, *args: str, **kwargs: object) -> subprocess.Popen[bytes]:
        """Start `berth ARGS...` without waiting (e.g. to interrupt it)."""
        return subprocess.Popen(self.command(*args), env=self.env, cwd=REPO_ROOT,
                                **kwargs)  # type: ignore[call-overload]
