"""Mount value objects and the only code in berth that calls mount(2) and umount2(2).

Snapshotters return `list[Mount]`; callers hand that list to `mount_all` when they really need
a mounted tree (container start, export, cp on a stopped container).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
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


MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MNT_DETACH = 0x2



@functools.cache
def _c() -> ctypes.CDLL:
    # glibc's soname directly: ctypes.util.find_library would spawn ldconfig on every run.
    return ctypes.CDLL("libc.so.6", use_errno=True)


def _mount(source: str, target: Path, fstype: str | None, flags: int, data: str | None
           ) -> None:
    rc = _c().mount(source.encode(), str(target).encode(),
                    fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                    data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise MountError(f"mount {fstype or 'bind'} {source} on {target}: {os.strerror(err)}")


def mount_all(mounts: Sequence[Mount], target: Path) -> None:
    """Mount every mount in order onto `target` (mount(2) directly: no mount(8) process).

    Raises:
        MountError: a mount failed; mounts made so far are undone.
    """
    done = 0
    try:
        for m in mounts:
            if m.type == "bind":
                flags = MS_BIND | (MS_REC if "rbind" in m.options else 0)
                _mount(m.source, target, None, flags, None)
                done += 1
                if "ro" in m.options:
                    _mount("none", target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
            else:
                _mount(m.source, target, m.type, 0, ",".join(m.options) or None)
                done += 1
    except MountError:
        for _ in range(done):
            unmount(target, lazy=True)
        raise


def is_mounted(target: Path) -> bool:
    """True when `target` is a mount point."""
    return os.path.ismount(target)


def unmount(target: Path, lazy: bool = False) -> None:
    """Unmount `target` if it is mounted.

    Raises:
        MountError: umount2(2) failed.
    """
    if not is_mounted(target):
        return
    if _c().umount2(str(target).encode(), MNT_DETACH if lazy else 0) != 0:
        err = ctypes.get_errno()
        raise MountError(f"umount {target}: {os.strerror(err)}")
