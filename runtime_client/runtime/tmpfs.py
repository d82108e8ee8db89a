"""`--tmpfs PATH[:OPTIONS]` and `--shm-size`: parsing with Docker's rules and the runtime-spec
mounts (pure: no I/O).

Docker keeps each `--tmpfs` value's options as typed (inspect's `HostConfig.Tmpfs` maps the
path to that string) and mounts a tmpfs with `noexec,nosuid,nodev` first, each dropped when
the user asks for its opposite (`exec`, `suid`, `dev`), then `rprivate`, then the user's
options. No size is set unless given: the kernel's default (half of RAM) applies. The mount
point keeps the mode of the directory it covers (runc's rule), like Docker's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from runtime_client.container_errors import InvalidOptionError

__all__ = ["DEFAULT_SHM_SIZE", "parse_tmpfs", "parse_tmpfs_list", "shm_mount", "tmpfs_mount",
           "tmpfs_mounts"]

DEFAULT_SHM_SIZE = 64 << 20  # Docker's /dev/shm, bytes
DEFAULT_OPTIONS = ("noexec", "nosuid", "nodev")
_OPPOSITES = {"exec": "noexec", "suid": "nosuid", "dev": "nodev"}
# Flag options Docker's mount parser knows; anything else must be one of the data keys.
_FLAGS = frozenset({
    "defaults", "ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync",
    "async", "dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime",
    "nodiratime", "bind", "rbind", "unbindable", "runbindable", "private", "rprivate",
    "shared", "rshared", "slave", "rslave", "relatime", "norelatime", "strictatime",
    "nostrictatime",
})
_SIZE_RE = re.compile(r"^\d+[kKmMgG%]?$")
_DATA_CHECKS = {
    "size": _SIZE_RE, "nr_blocks": _SIZE_RE, "nr_inodes": _SIZE_RE,
    "mode": re.compile(r"^[0-7]{1,4}$"), "uid": re.compile(r"^\d+$"),
    "gid": re.compile(r"^\d+$"), "mpol": re.compile(r"^[a-z]+(:.*)?$"),
}


def _quoted(option: str) -> str:
    """Go's `%q` of `strings.SplitN(option, "=", 2)`, as Docker prints a bad option."""
    return "[" + " ".join('"' + part + '"' for part in option.split("=", 1)) + "]"


def parse_tmpfs(value: str) -> tuple[str, str]:
    """One `--tmpfs` value as (path, options as typed).

    Raises:
        InvalidOptionError: a relative path, `/`, or an option tmpfs does not take (Docker's
            wording), or a malformed size, mode, uid or gid (checked now rather than at start).
    """
    path, _, options = value.partition(":")
    if not path.startswith("/"):
        raise InvalidOptionError(f"invalid mount path: '{path}' mount path must be absolute")
    if path.rstrip("/") == "":
        raise InvalidOptionError("invalid specification: destination can't be '/'")
    for option in filter(None, options.split(",")):
        key, sep, data = option.partition("=")
        if not sep and option in _FLAGS:
            continue
        if key not in _DATA_CHECKS:
            raise InvalidOptionError(f"invalid tmpfs option {_quoted(option)}")
        if not _DATA_CHECKS[key].match(data):
            raise InvalidOptionError(f"invalid tmpfs option {option!r} for {path}")
    return path, options


def parse_tmpfs_list(values: Iterable[str]) -> dict[str, str]:
    """All `--tmpfs` values as inspect's map (a later value for the same path wins).

    Raises:
        InvalidOptionError: see `parse_tmpfs`.
    """
    return dict(parse_tmpfs(value) for value in values)


def tmpfs_mount(path: str, options: str) -> dict[str, Any]:
    """The runtime-spec mount of one `--tmpfs` entry, with Docker's option order."""
    given = [o for o in options.split(",") if o]
    cancelled = {_OPPOSITES[o] for o in given if o in _OPPOSITES}
    merged = [o for o in DEFAULT_OPTIONS if o not in cancelled] + ["rprivate"] + given
    return {"destination": path, "type": "tmpfs", "source": "tmpfs", "options": merged}


def tmpfs_mounts(tmpfs: Mapping[str, str]) -> list[dict[str, Any]]:
    """The spec mounts of every `--tmpfs` entry, parents before children."""
    return [tmpfs_mount(path, tmpfs[path]) for path in sorted(tmpfs)]


def shm_mount(size: int) -> dict[str, Any]:
    """The /dev/shm mount of `size` bytes (Docker passes the size in bytes too)."""
    return {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={size}"]}
