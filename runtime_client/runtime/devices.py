"""`--device HOST[:CONTAINER][:PERMISSIONS]`: parsing with Docker's rules, and the device
nodes and device-cgroup rules the runtime spec needs.

The record keeps inspect's shape, `{"PathOnHost", "PathInContainer", "CgroupPermissions"}`
(permissions default to `rwm`). At create and again at each start the host path is resolved
(symlinks followed, as dockerd does): a device node becomes one `linux.devices` entry with the
host node's type, numbers, mode and owner, and one allow rule in the devices cgroup with the
given permissions; a directory gives every device node below it, placed under the container
path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from runtime_client.container_errors import InvalidOptionError
from runtime_client.runtime.host import device_entry

__all__ = ["DEFAULT_PERMISSIONS", "parse_device", "resolve_devices"]

DEFAULT_PERMISSIONS = "rwm"


def _is_permissions(text: str) -> bool:
    return bool(text) and len(text) <= 3 and set(text) <= set(DEFAULT_PERMISSIONS)


def parse_device(value: str) -> dict[str, str]:
    """One `--device` value in inspect's shape.

    Raises:
        InvalidOptionError: too many parts, bad permissions or a relative container path
            (Docker's wording).
    """
    parts = value.split(":")
    permissions = DEFAULT_PERMISSIONS
    if len(parts) == 3:
        source, target, permissions = parts
        if not _is_permissions(permissions):
            raise InvalidOptionError(f"bad mode specified: {permissions}")
    elif len(parts) == 2 and _is_permissions(parts[1]):
        source, target, permissions = parts[0], parts[0], parts[1]
    elif len(parts) == 2:
        source, target = parts
    elif len(parts) == 1:
        source = target = parts[0]
    else:
        raise InvalidOptionError(f"invalid device specification: {value}")
    if not target.startswith("/"):
        raise InvalidOptionError(f"{target} is not an absolute path")
    return {"PathOnHost": source, "PathInContainer": target, "CgroupPermissions": permissions}


def _nodes(mapping: Mapping[str, str]) -> list[tuple[dict[str, Any], str]]:
    """(device entry at its container path, permissions) for one mapping."""
    source = mapping["PathOnHost"]
    try:
        resolved = Path(os.path.realpath(source, strict=True))
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise InvalidOptionError(f"error gathering device information while adding custom "
                                 f'device "{source}": {reason}') from None
    target = mapping["PathInContainer"]
    if resolved.is_dir():
        found = []
        for dirpath, dirnames, filenames in os.walk(resolved):
            dirnames.sort()
            for filename in sorted(filenames):
                entry = device_entry(Path(dirpath) / filename)
                if entry is not None:
                    relative = os.path.relpath(entry["path"], resolved)
                    found.append({**entry, "path": os.path.join(target, relative)})
        return [(entry, mapping["CgroupPermissions"]) for entry in found]
    entry = device_entry(resolved)
    if entry is None:
        raise InvalidOptionError(f"error gathering device information while adding custom "
                                 f'device "{source}": not a device node')
    return [({**entry, "path": target}, mapping["CgroupPermissions"])]


def resolve_devices(mappings: Iterable[Mapping[str, str]]
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The spec's `linux.devices` entries and device-cgroup allow rules for `mappings`.

    Raises:
        InvalidOptionError: a host path that is missing or is not a device node or directory.
    """
    devices, rules = [], []
    for mapping in mappings:
        for entry, permissions in _nodes(mapping):
            devices.append(entry)
            rules.append({"allow": True, "type": entry["type"], "major": entry["major"],
                          "minor": entry["minor"], "access": permissions})
    return devices, rules
