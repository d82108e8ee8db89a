"""`berth pause` / `berth unpause`: freeze and thaw every process (the cgroup freezer)."""

from __future__ import annotations

from runtime_client.ops.context import Context
from runtime_client.runtime.container import Event, transition


def pause(ctx: Context, ref: str) -> str:
    """Freeze a running container; returns `ref`.

    Raises:
        NoSuchContainerError, InvalidStateError: not running or already paused.
    """
    found = ctx.containers.find(ref)
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        transition(container, Event.PAUSE)
        ctx.runtime(container.runtime).pause(container.id)
        ctx.containers.save(container)
    return ref


def unpause(ctx: Context, ref: str) -> str:
    """Thaw a paused container; returns `ref`.

    Raises:
        NoSuchContainerError, InvalidStateError: not paused.
    """
    found = ctx.containers.find(ref)
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        transition(container, Event.UNPAUSE)
        ctx.runtime(container.runtime).resume(container.id)
        ctx.containers.save(container)
    return ref
