"""`berth container cleanup ID`: what conmon runs when a container's process exits.

It records the exit, releases the container's mounts and networks, and then applies `--rm`
(unless a foreground `run` is waiting to read the exit code) or the restart policy. This is
how berth restarts containers without a daemon: a restart happens only when the process exits
while its conmon monitor is alive (not after a host reboot).
"""

from __future__ import annotations

import logging
import time

from runtime_client.ops.context import Context
from runtime_client.ops.rm import remove_container
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Event, Status, transition

logger = logging.getLogger(__name__)

_MAX_BACKOFF = 2.0  # seconds between restarts of a container that keeps failing


def cleanup(ctx: Context, ref: str) -> None:
    """Reap an exited container and apply --rm / --restart.

    Raises:
        NoSuchContainerError: the container is gone.
    """
    found = ctx.containers.find(ref)
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        if not lifecycle.reap(ctx, container):
            return
    if container.auto_remove and not container.foreground:
        remove_container(ctx, container.id, force=False, volumes=True)
        return
    if not lifecycle.should_restart(container):
        return
    time.sleep(min(_MAX_BACKOFF, 0.1 * (2 ** min(container.restart_count, 5))))
    with ctx.containers.locked(container.id):
        container = ctx.containers.load(container.id)
        if container.status is not Status.EXITED or not lifecycle.should_restart(container):
            return
        transition(container, Event.RESTART)
        container.restart_count += 1
        ctx.containers.save(container)
        try:
            lifecycle.start(ctx, container)
        except Exception as exc:  # the policy retries on the next exit only; record why
            logger.warning("restart of %s failed: %s", container.id[:12], exc)
            container.state.status = Status.EXITED.value
            container.state.error = str(exc)
            ctx.containers.save(container)
