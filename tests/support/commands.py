"""Run external commands (docker, skopeo, ...) and fail with their output in the message."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence

__all__ = ["CommandError", "run_command"]


class CommandError(subprocess.CalledProcessError):
    """A command the tests ran exited non-zero; the message includes its output."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


def run_command(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float = 300,
    input: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `args`, capturing stdout and stderr as text.

    Raises:
        CommandError: when `check` and the command exits non-zero.
        subprocess.TimeoutExpired: when it runs longer than `timeout` seconds.
    """
    result = subprocess.run(list(args), env=dict(env) if env is not None else None,
                            capture_output=True, timeout=timeout, input=input, check=False)
    completed = subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode(errors="replace"),
        result.stderr.decode(errors="replace"))
    if check and completed.returncode != 0:
        raise CommandError(completed.returncode, completed.args, completed.stdout,
                           completed.stderr)
    return completed
