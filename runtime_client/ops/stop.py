"""`berth stop [-t SECONDS]`: the container's stop signal, then SIGKILL after the timeout.

The signal is `--stop-signal`, else the image's STOPSIGNAL (both kept in the record at
create), else SIGTERM. The timeout is `-t`, else `--stop-timeout`, else 10 seconds; a negative
one waits for as long as the process takes, as dockerd does.
"""

from __future__ import annotations

import contextlib
import logging

from runtime_client.ops.context import Context
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Status
from runtime_client.runtime.signals import DEFAULT_STOP_SIGNAL, parse_signal

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10  # seconds, Docker's default


def stop(ctx: Context, ref: str, timeout: int | None = None) -> str:
    """Stop a container (no-op when it is not running); returns `ref` as Docker echoes it.

    Args:
        ctx: the berth root.
        ref: a container name or ID (prefix).
        timeout: seconds before SIGKILL (None: the container's own, or 10; < 0: no limit).

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
    signal = parse_signal(container.stop_signal or DEFAULT_STOP_SIGNAL)
    with contextlib.suppress(Exception):
        runtime.kill(container.id, str(signal))
    if container.status is Status.PAUSED:
        with contextlib.suppress(Exception):
            runtime.resume(container.id)
    if timeout is None:
        timeout = DEFAULT_TIMEOUT if container.stop_timeout is None else container.stop_timeout
    if not lifecycle.wait_for_exit(ctx, container, timeout=timeout if timeout >= 0 else None):
        with contextlib.suppress(Exception):
            runtime.kill(container.id, "KILL", all_processes=True)
        lifecycle.wait_for_exit(ctx, container, timeout=None)
    with ctx.containers.locked(container.id):
        container = ctx.containers.load(container.id)
        lifecycle.reap(ctx, container)
    return ref
