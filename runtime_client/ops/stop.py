"""`berth stop [-t SECONDS]`: the image's stop signal (SIGTERM), then SIGKILL after -t."""

from __future__ import annotations

import contextlib
import logging

from runtime_client.ops.context import Context
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Status

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10  # seconds, Docker's default


def stop(ctx: Context, ref: str, timeout: int | None = None) -> str:
    """Stop a container (no-op when it is not running); returns `ref` as Docker echoes it.

    Raises:
        NoSuchContainerError.
    """
    found = ctx.containers.find(ref)
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        if container.status not in (Status.RUNNING, Status.PAUSED):
            return ref
        # Set before signalling so the exit command does not apply the restart policy.
        container.stopped_by_user = True
        ctx.containers.save(container)
    runtime = ctx.runtime(container.runtime)
    signal = (container.image_config.get("config") or {}).get("StopSignal") or "TERM"
    with contextlib.suppress(Exception):
        runtime.kill(container.id, signal.removeprefix("SIG"))
    if container.status is Status.PAUSED:
        with contextlib.suppress(Exception):
            runtime.resume(container.id)
    wait = DEFAULT_TIMEOUT if timeout is None else timeout
    if wait < 0 or not lifecycle.wait_for_exit(ctx, container, timeout=wait):
        with contextlib.suppress(Exception):
            runtime.kill(container.id, "KILL", all_processes=True)
        lifecycle.wait_for_exit(ctx, container, timeout=None)
    with ctx.containers.locked(container.id):
        container = ctx.containers.load(container.id)
        lifecycle.reap(ctx, container)
    return ref
