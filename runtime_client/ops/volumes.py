"""What containers do with volumes: which container uses which volume, resolving a new
container's mounts (creating the volumes it names), copy-up, and removing anonymous volumes.

The volume lock (`VolumeStore.locked`) is taken before any container lock it is held with is
wanted elsewhere, never the other way round: create holds it while it records the container,
`volume rm`/`prune` while they check for users and delete.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from runtime_client.container_errors import InvalidOptionError, VolumeError
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container
from runtime_client.volumes.model import (
    MountPoint,
    MountRequest,
    parse_mount_flag,
    parse_volume_flag,
)

logger = logging.getLogger(__name__)


def volume_users(ctx: Context) -> dict[str, list[str]]:
    """Volume name -> IDs of the containers (running or not) that mount it."""
    users: dict[str, list[str]] = {}
    for container in ctx.containers.list():
        for m in container.mounts:
            if m.type == "volume":
                users.setdefault(m.source, []).append(container.id)
    return users


def requested_mounts(volume_flags: Iterable[str], mount_flags: Iterable[str],
                     image_volumes: Iterable[str]) -> list[MountRequest]:
    """Every mount a new container asks for: -v, then --mount, then the image's VOLUMEs that
    neither covers (each an anonymous volume), as dockerd merges them.

    Raises:
        InvalidOptionError: a malformed flag, or two mounts on one destination.
    """
    requests = [parse_volume_flag(v) for v in volume_flags]
    requests += [parse_mount_flag(m) for m in mount_flags]
    seen: set[str] = set()
    for r in requests:
        dest = os.path.normpath(r.destination)
        if dest in seen:
            raise InvalidOptionError(f"Duplicate mount point: {dest}")
        seen.add(dest)
    for path in image_volumes:
        if os.path.normpath(path) not in seen:
            requests.append(MountRequest("volume", "", path, from_flag="image"))
    return requests


def resolve_mounts(ctx: Context, requests: Sequence[MountRequest]) -> list[MountPoint]:
    """Create the volumes `requests` name (and a new one per anonymous request). The caller
    holds the volume lock.

    Raises:
        InvalidOptionError: a `--mount type=bind` source that does not exist (dockerd
            refuses it where `-v` would create it).
    """
    points = []
    for r in requests:
        source = r.source
        if r.type == "bind" and r.from_flag == "--mount" and not os.path.exists(source):
            raise InvalidOptionError(f'invalid mount config for type "bind": bind source path '
                                     f"does not exist: {source}")
        if r.type == "volume":
            source = ctx.volumes.create(source).name
        points.append(MountPoint(r.type, source, r.destination, r.readonly, r.mode,
                                 r.copy_up, r.from_flag, r.type == "volume" and not r.source))
    return points


def copy_up(data: Path, image_dir: Path) -> None:
    """Fill an empty volume with what the image has at its mount point (dockerd copies when
    the volume is empty, keeping owners, modes and times, and gives the volume's top
    directory the image directory's owner and mode).

    Raises:
        VolumeError: the copy failed.
    """
    if not image_dir.is_dir() or image_dir.is_symlink() or any(data.iterdir()):
        return
    st = image_dir.stat()
    os.chown(data, st.st_uid, st.st_gid)
    os.chmod(data, st.st_mode & 0o7777)
    if not any(image_dir.iterdir()):
        return
    done = subprocess.run(["cp", "-a", "--", f"{image_dir}/.", f"{data}/"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise VolumeError(f"copy image content into volume: {done.stderr.strip()}")


def remove_anonymous_volumes(ctx: Context, container: Container) -> list[str]:
    """Remove the container's anonymous volumes that no other container uses (`rm -v`,
    `run --rm`); named volumes stay. Returns the names removed."""
    removed: list[str] = []
    if not any(m.type == "volume" for m in container.mounts):
        return removed  # the common `run --rm` reads no container records
    with ctx.volumes.locked():
        users = volume_users(ctx)
        for m in container.mounts:
            if m.type != "volume" or users.get(m.source):
                continue
            with contextlib.suppress(VolumeError):
                if ctx.volumes.get(m.source).anonymous:
                    ctx.volumes.remove(m.source)
                    removed.append(m.source)
    return removed
