"""`berth volume rm [-f] VOLUME...`: refused while any container, even a stopped one, uses it."""

from __future__ import annotations

from runtime_client.container_errors import VolumeError
from runtime_client.ops.context import Context
from runtime_client.ops.volumes import volume_users
from runtime_client.volumes.store import NoSuchVolumeError


class VolumeInUseError(VolumeError):
    """A container (running or not) mounts the volume."""

    def __init__(self, name: str, users: list[str]) -> None:
        super().__init__(f"remove {name}: volume is in use - [{', '.join(users)}]")


def volume_rm(ctx: Context, name: str, force: bool = False) -> str:
    """Remove a volume; with `force` a missing one is no error (dockerd's answer to -f).

    Raises:
        NoSuchVolumeError, VolumeInUseError.
    """
    with ctx.volumes.locked():
        try:
            ctx.volumes.get(name)
        except NoSuchVolumeError:
            if force:
                return name
            raise
        users = volume_users(ctx).get(name)
        if users:
            raise VolumeInUseError(name, users)
        ctx.volumes.remove(name)
    return name
