"""`berth volume ls [--filter KEY=VALUE]`: volume rows with the docker CLI's field names.

dockerd's filters (API `GET /volumes`): `name` matches exactly or as an unanchored regular
expression, `driver` exactly, values of one key being alternatives; every `label` (`KEY` or
`KEY=VALUE`) must hold; `dangling` (`true`/`1` or `false`/`0`) keeps the volumes no container
uses, or the others. Unknown keys are refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from runtime_client.container_errors import InvalidOptionError
from runtime_client.errors import UsageError
from runtime_client.ops.context import Context
from runtime_client.ops.volumes import volume_users
from runtime_client.volumes.model import Volume

_KEYS = ("dangling", "driver", "label", "name")


def parse_volume_filters(raw: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """`--filter` values by key (lowercased keys, trimmed values, as the docker CLI sends them).

    Raises:
        UsageError: no `=` (the docker CLI refuses it).
        InvalidOptionError: a key dockerd does not know, or a bad `dangling` value.
    """
    values: dict[str, list[str]] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f'invalid argument "{item}" for "-f, --filter" flag: bad format '
                             "of filter (expected name=value)")
        values.setdefault(key.strip().lower(), []).append(value.strip())
    for key in sorted(values):
        if key not in _KEYS:
            raise InvalidOptionError(f"Invalid filter '{key}'")
    for value in values.get("dangling", ()):
        if value not in ("true", "1", "false", "0"):
            raise InvalidOptionError(f"Invalid filter 'dangling={value}'")
    return {key: tuple(found) for key, found in values.items()}


def _matches(pattern: str, text: str) -> bool:
    if pattern == text:
        return True
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _keeps(volume: Volume, filters: dict[str, tuple[str, ...]], used: bool) -> bool:
    names = filters.get("name", ())
    if names and not any(_matches(n, volume.name) for n in names):
        return False
    drivers = filters.get("driver", ())
    if drivers and volume.driver not in drivers:
        return False
    labels = volume.labels or {}
    for label in filters.get("label", ()):
        key, sep, value = label.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    dangling = filters.get("dangling", ())
    return not dangling or any((d in ("true", "1")) != used for d in dangling)


def volume_rows(ctx: Context, volume: Volume) -> dict[str, Any]:
    """One row: Name, Driver, Scope, Mountpoint, Labels (`k=v,...`), Links and Size (N/A)."""
    return {"Name": volume.name, "Driver": volume.driver, "Scope": "local",
            "Mountpoint": str(ctx.volumes.data(volume.name)),
            "Labels": ",".join(f"{k}={v}" for k, v in sorted((volume.labels or {}).items())),
            "Links": "N/A", "Size": "N/A"}


def volume_ls(ctx: Context, filters: dict[str, tuple[str, ...]] | None = None
              ) -> list[dict[str, Any]]:
    """The volumes the filters keep, by name (the docker CLI's order)."""
    users = volume_users(ctx)
    return [volume_rows(ctx, v) for v in ctx.volumes.list()
            if _keeps(v, filters or {}, bool(users.get(v.name)))]
