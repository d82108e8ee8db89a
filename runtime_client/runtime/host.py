"""What this host can give a container: capabilities, rlimits, the pids controller, devices.

Each function reads the live system (/proc, /sys, /dev, getrlimit), so the pure modules
(`capabilities`, `ulimits`, `spec`) can take plain values:

- `bounding_capabilities()`: the capabilities berth itself may pass on (its bounding set; a
  sandboxed host may lack some, e.g. CAP_SYS_RESOURCE);
- `check_ulimits_fit(...)`: a hard limit above what berth may set makes the runtime fail at
  start (EPERM), so create refuses it with a clear message instead;
- `pids_controller_available()`: cgroup v1 `pids` hierarchy, or `pids` in a pure v2 tree;
- `host_devices()`: the host's /dev device nodes, as `--privileged` exposes them;
  `device_entry(path)`: one node (for `--device`);
- `cfs_available()`: whether the cpu controller takes a CFS quota (`--cpus`).
"""

from __future__ import annotations

import functools
import logging
import os
import resource
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runtime_client.container_errors import InvalidOptionError
from runtime_client.runtime.capabilities import names_from_mask
from runtime_client.runtime.ulimits import UNLIMITED

logger = logging.getLogger(__name__)

__all__ = [
    "bounding_capabilities",
    "cfs_available",
    "check_ulimits_fit",
    "device_entry",
    "host_devices",
    "pids_controller_available",
]

CGROUP_ROOT = Path("/sys/fs/cgroup")
NR_OPEN = Path("/proc/sys/fs/nr_open")
CAP_SYS_RESOURCE_BIT = 24
# Linux resource numbers (asm-generic/resource.h); Python's module lacks RLIMIT_LOCKS.
_RLIMIT_NUMBERS = {"cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5,
                   "nproc": 6, "nofile": 7, "memlock": 8, "locks": 10, "sigpending": 11,
                   "msgqueue": 12, "nice": 13, "rtprio": 14, "rttime": 15}
# /dev entries runc also leaves out of a host device list: mounted separately or not devices.
_SKIPPED_DEV_DIRS = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"}


def _status_mask(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1], 16)
    return 0


@functools.cache
def bounding_capabilities() -> tuple[str, ...]:
    """The capability names in berth's own bounding set (all a container can be given)."""
    return tuple(names_from_mask(_status_mask("CapBnd")))


def _ceiling(name: str, can_raise: bool) -> int:
    """The highest hard limit berth may give a process for rlimit `name` (-1: unlimited)."""
    ceiling = UNLIMITED
    if not can_raise:
        hard = resource.getrlimit(_RLIMIT_NUMBERS[name])[1]
        ceiling = UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if name == "nofile":  # the kernel's cap on open files, even with CAP_SYS_RESOURCE
        nr_open = int(NR_OPEN.read_text())
        ceiling = nr_open if ceiling == UNLIMITED else min(ceiling, nr_open)
    return ceiling


def check_ulimits_fit(ulimits: Iterable[dict[str, Any]]) -> None:
    """Refuse recorded `--ulimit` values whose hard limit the runtime could not set.

    Raises:
        InvalidOptionError: a hard limit (or -1, unlimited) above the host's ceiling.
    """
    can_raise = bool(_status_mask("CapEff") >> CAP_SYS_RESOURCE_BIT & 1)
    for ulimit in ulimits:
        ceiling = _ceiling(ulimit["Name"], can_raise)
        hard = ulimit["Hard"]
        if ceiling != UNLIMITED and (hard == UNLIMITED or hard > ceiling):
            shown = "unlimited" if hard == UNLIMITED else str(hard)
            raise InvalidOptionError(
                f"invalid ulimit {ulimit['Name']}: hard limit {shown} is above this host's "
                f"limit of {ceiling}")


def pids_controller_available() -> bool:
    """Whether runc can apply `linux.resources.pids` here (cgroup v1 or v2)."""
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if controllers.exists():  # the unified (pure v2) layout
        return "pids" in controllers.read_text().split()
    return (CGROUP_ROOT / "pids" / "cgroup.procs").exists()


def cfs_available() -> bool:
    """Whether runc can apply a CFS quota here (cgroup v1 `cpu` hierarchy, or v2 `cpu`)."""
    controllers = CGROUP_ROOT / "cgroup.controllers"
    if controllers.exists():
        return "cpu" in controllers.read_text().split()
    return (CGROUP_ROOT / "cpu" / "cpu.cfs_quota_us").exists()


def device_entry(path: Path) -> dict[str, Any] | None:
    """The runtime-spec `linux.devices` entry of a device node (None: not one, or gone)."""
    try:
        info = path.lstat()
    except OSError:
        return None
    if stat.S_ISCHR(info.st_mode):
        kind = "c"
    elif stat.S_ISBLK(info.st_mode):
        kind = "b"
    else:
        return None
    return {"path": str(path), "type": kind, "major": os.major(info.st_rdev),
            "minor": os.minor(info.st_rdev), "fileMode": stat.S_IMODE(info.st_mode),
            "uid": info.st_uid, "gid": info.st_gid}


def host_devices(root: Path = Path("/dev")) -> list[dict[str, Any]]:
    """The host's device nodes under /dev as runtime-spec `linux.devices` entries.

    /dev/console is left out: the runtime sets the container's console up itself.
    """
    devices = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_DEV_DIRS)
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if path == root / "console":
                continue
            device = device_entry(path)
            if device is not None:
                devices.append(device)
    return devices
