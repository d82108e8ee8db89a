"""`berth top CONTAINER [ps OPTIONS]`: the container's processes, as `ps` shows them."""

from __future__ import annotations

from runtime_client.container_errors import InvalidStateError
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Status


def top(ctx: Context, ref: str, ps_args: tuple[str, ...] = ()) -> str:
    """`ps -ef` (or the given ps options) restricted to the container's processes.

    Raises:
        NoSuchContainerError, InvalidStateError: not running.
    """
    container = ctx.containers.find(ref)
    if container.status not in (Status.RUNNING, Status.PAUSED):
        raise InvalidStateError(f"Container {container.id} is not running")
    return ctx.runtime(container.runtime).ps(container.id, list(ps_args) or ["-ef"])
