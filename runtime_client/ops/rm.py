"""`berth rm [-f] [-v]`: remove containers (with -f, kill running ones first; with -v their
anonymous volumes)."""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import dataclass

from runtime_client.container_errors import SnapshotError
from runtime_client.ops.context import Context
from runtime_client.ops.volumes import remove_anonymous_volumes
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Event, Status, transition

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RmOptions:
    """Options of `rm`."""

    containers: tuple[str, ...]
    force: bool = False
    volumes: bool = False


def kill_and_reap(ctx: Context, container_id: str) -> None:
    """SIGKILL every process of a running container and record its exit (lock held)."""
    container = ctx.containers.load(container_id)
    runtime = ctx.runtime(container.runtime)
    with contextlib.suppress(Exception):
        runtime.kill(container.id, "KILL", all_processes=True)
    if container.status is Status.PAUSED:
        with contextlib.suppress(Exception):
            runtime.resume(container.id)
    lifecycle.wait_for_exit(ctx, container, timeout=10)
    if not lifecycle.reap(ctx, container):
        runtime.delete(container.id)
        lifecycle.reap(ctx, container)


def remove_container(ctx: Context, container_id: str, force: bool,
                     volumes: bool = False) -> None:
    """Remove one container by exact ID; with `volumes`, its anonymous volumes too.

    Raises:
        InvalidStateError: running and not forced (Docker's message).
    """
    with ctx.containers.locked(container_id):
        container = ctx.containers.load(container_id)
        if container.status in (Status.RUNNING, Status.PAUSED):
            if not force:
                transition(container, Event.REMOVE)  # raises Docker's "cannot remove" error
            kill_and_reap(ctx, container_id)
            container = ctx.containers.load(container_id)
        transition(container, Event.FORCE_REMOVE if force else Event.REMOVE)
        ctx.containers.save(container)
        ctx.runtime(container.runtime).delete(container.id)
        lifecycle.unmount_rootfs(ctx, container)
        for key in (container.id, f"{container.id}-init"):
            with contextlib.suppress(SnapshotError):
                ctx.snapshots.remove(key)
        shutil.rmtree(ctx.layout.socket_dir() / container.id, ignore_errors=True)
        ctx.containers.delete(container.id)
    if volumes:
        remove_anonymous_volumes(ctx, container)
    logger.info("removed container %s", container_id[:12])


def rm(ctx: Context, ref: str, force: bool = False, volumes: bool = False) -> str:
    """Remove the container `ref`; returns `ref` as Docker echoes it.

    Raises:
        NoSuchContainerError, InvalidStateError.
    """
    container = ctx.containers.find(ref)
    remove_container(ctx, container.id, force, volumes)
    return ref
