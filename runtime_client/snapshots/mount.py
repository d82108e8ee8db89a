"""Mount value objects and the only code in berth that calls mount(8) and umount(8).

Snapshotters return `list[Mount]`; callers hand that list to `mount_all` when they really need
a mounted tree (container start, export, cp on a stopped container).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runtime_client.container_errors import MountError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mount:
    """One mount(2) call: `mount -t type -o options source target`."""

    type: str
    source: str
    options: tuple[str, ...] = field(default_factory=tuple)

    def option(self, key: str) -> str | None:
        """The value of a `key=value` option, or None."""
        for opt in self.options:
            if opt.startswith(key + "="):
                return opt[len(key) + 1:]
        return None


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MountError(f"{' '.join(argv)}: {proc.stderr.strip()}")


def mount_all(mounts: Sequence[Mount], target: Path) -> None:
    """Mount every mount in order onto `target`.

    Raises:
        MountError: mount(8) failed; mounts made so far are undone.
    """
    done = 0
    try:
        for m in mounts:
            opts = ",".join(m.options)
            argv = ["mount", "-t", m.type]
            if m.type == "bind":
                argv = ["mount", "--bind"] if "rbind" not in m.options else ["mount", "--rbind"]
                if "ro" in m.options:
                    argv += ["-o", "ro"]
            elif opts:
                argv += ["-o", opts]
            _run([*argv, m.source, str(target)])
            done += 1
    except MountError:
        for _ in range(done):
            unmount(target)
        raise


def is_mounted(target: Path) -> bool:
    """True when `target` is a mount point."""
    return os.path.ismount(target)


def unmount(target: Path, lazy: bool = False) -> None:
    """Unmount `target` if it is mounted.

    Raises:
        MountError: umount(8) failed.
    """
    if not is_mounted(target):
        return
    _run(["umount", *(["-l"] if lazy else []), str(target)])
