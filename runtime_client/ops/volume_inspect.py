"""`berth volume inspect`: dockerd's volume JSON."""

from __future__ import annotations

from typing import Any

from runtime_client.ops.context import Context


def volume_inspect(ctx: Context, name: str) -> dict[str, Any]:
    """CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope (dockerd's key order).

    Raises:
        NoSuchVolumeError.
    """
    volume = ctx.volumes.get(name)
    return {"CreatedAt": volume.created_at, "Driver": volume.driver, "Labels": volume.labels,
            "Mountpoint": str(ctx.volumes.data(volume.name)), "Name": volume.name,
            "Options": volume.options, "Scope": "local"}
