"""Volumes and mount points as values: Docker's volume names, `-v` and `--mount` parsing.

Pure: no filesystem access. A `MountPoint` is what a container record keeps for each mount,
already resolved (an anonymous volume has its generated name by then); `MountRequest` is what
the flags ask for before that.

Rules (dockerd's `volume/mounts/linux_parser.go` with the docker CLI in front of it):
- `-v DST` asks for an anonymous volume; `-v SRC:DST[:MODE]` a bind when SRC is absolute,
  else the named volume SRC; MODE is a comma list of `ro`, `rw`, `z`, `Z`, `nocopy` and
  propagation modes.
- `--mount type=volume|bind,source=,target=[,readonly][,volume-nocopy]`: a volume without a
  source is anonymous; a bind needs an absolute source that exists (checked by the caller).
- Local volume names match `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime_client.container_errors import InvalidOptionError, VolumeError

__all__ = [
    "ANONYMOUS_LABEL",
    "LOCAL_OPTION_KEYS",
    "MountPoint",
    "MountRequest",
    "Volume",
    "check_volume_name",
    "parse_mount_flag",
    "parse_volume_flag",
]

# dockerd (23+) labels the volumes it names itself; `volume prune` without -a removes only these.
ANONYMOUS_LABEL = "com.docker.volume.anonymous"
# The local driver's options (`mount -t TYPE -o O DEVICE`).
LOCAL_OPTION_KEYS = frozenset({"type", "device", "o"})

_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
_MODES = frozenset({"ro", "rw", "z", "Z", "nocopy", "private", "rprivate", "shared",
                    "rshared", "slave", "rslave", "consistent", "cached", "delegated"})


@dataclass(frozen=True)
class Volume:
    """One volume's metadata (`volume.json` beside its `_data`)."""

    name: str
    created_at: str  # RFC 3339, seconds, as dockerd shows CreatedAt
    driver: str = "local"
    # None when none were given (dockerd shows null)
    labels: dict[str, str] | None = None
    options: dict[str, str] | None = None

    @property
    def anonymous(self) -> bool:
        return ANONYMOUS_LABEL in (self.labels or {})


@dataclass(frozen=True)
class MountRequest:
    """A mount as the flags ask for it (`source` empty: a new anonymous volume)."""

    type: str  # "bind" | "volume"
    source: str
    destination: str
    readonly: bool = False
    mode: str = ""  # the -v mode as typed, shown as Mounts[].Mode
    copy_up: bool = True  # false with `nocopy` / `volume-nocopy`
    from_flag: str = "-v"  # "-v", "--mount" or "image" (a Dockerfile VOLUME)


@dataclass(frozen=True)
class MountPoint:
    """A resolved mount of a container: a host path or a volume by name."""

    type: str  # "bind" | "volume"
    source: str  # bind: host path; volume: the volume's name
    destination: str
    readonly: bool = False
    mode: str = ""
    copy_up: bool = True
    from_flag: str = "-v"
    anonymous: bool = False  # the volume was made for this container (no name was given)


def check_volume_name(name: str) -> None:
    """Raises VolumeError with dockerd's text unless `name` is a valid local volume name."""
    if not _NAME_RE.match(name):
        raise VolumeError(
            f'create {name}: "{name}" includes invalid characters for a local volume name, '
            'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host '
            "directory, use absolute path")


def parse_volume_flag(value: str) -> MountRequest:
    """One `-v` value.

    Raises:
        InvalidOptionError: an empty part, a relative destination or an unknown mode.
    """
    parts = value.split(":")
    if len(parts) > 3 or not all(parts):
        raise InvalidOptionError(f"invalid spec: {value}: too many colons"
                                 if len(parts) > 3 else f"invalid spec: {value}")
    if len(parts) == 1:
        source, destination, mode = "", parts[0], ""
    else:
        source, destination = parts[0], parts[1]
        mode = parts[2] if len(parts) == 3 else ""
    if not destination.startswith("/"):
        raise InvalidOptionError(
            f"invalid mount config for type \"{'bind' if source.startswith('/') else 'volume'}"
            f'": invalid mount path: \'{destination}\' mount path must be absolute')
    modes = mode.split(",") if mode else []
    if any(m not in _MODES for m in modes) or ("ro" in modes and "rw" in modes):
        raise InvalidOptionError(f"invalid mode: {mode}")
    kind = "bind" if source.startswith("/") else "volume"
    if kind == "volume" and source:
        check_volume_name(source)
    return MountRequest(kind, source, destination, "ro" in modes, mode,
                        copy_up="nocopy" not in modes)


def parse_mount_flag(value: str) -> MountRequest:
    """One `--mount` value (`type=volume` when no type is given, as dockerd defaults).

    Raises:
        InvalidOptionError: the docker CLI's and dockerd's complaints.
    """
    kind, source, target = "volume", "", ""
    readonly, copy_up = False, True
    for item in value.split(","):
        key, sep, val = item.partition("=")
        key = key.strip().lower()
        if key in ("readonly", "ro") and not sep:
            readonly = True
            continue
        if key == "volume-nocopy" and not sep:
            copy_up = False
            continue
        if not sep:
            raise InvalidOptionError(f"invalid field '{item}' must be a key=value pair")
        if key == "type":
            kind = val
        elif key in ("source", "src"):
            source = val
        elif key in ("target", "destination", "dst"):
            target = val
        elif key in ("readonly", "ro"):
            readonly = _bool(key, val)
        elif key == "volume-nocopy":
            copy_up = not _bool(key, val)
        else:
            raise InvalidOptionError(f"unexpected key '{key}' in '{item}'")
    if kind not in ("bind", "volume"):
        raise InvalidOptionError(f"invalid mount config: berth supports type=bind and "
                                 f"type=volume, not {kind!r}")
    if not target:
        raise InvalidOptionError("target is required")
    if not target.startswith("/"):
        raise InvalidOptionError(f"invalid mount config for type \"{kind}\": invalid mount "
                                 f"path: '{target}' mount path must be absolute")
    if kind == "bind" and not source:
        raise InvalidOptionError('invalid mount config for type "bind": field Source must '
                                 "not be empty")
    if kind == "volume" and source:
        check_volume_name(source)
    if kind == "volume" and not source and readonly:  # nothing could ever write to it
        raise InvalidOptionError('invalid mount config for type "volume": must not set '
                                 "ReadOnly mode when using anonymous volumes")
    return MountRequest(kind, source, target, readonly, "", copy_up, "--mount")


def _bool(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true"):
        return True
    if lowered in ("0", "false"):
        return False
    raise InvalidOptionError(f"invalid value for {key}: {value}")
