"""`berth kill [-s SIGNAL]`: send a signal to a running container's main process."""

from __future__ import annotations

import signal as signals

from runtime_client.container_errors import InvalidOptionError, InvalidStateError
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Status


def parse_signal(value: str) -> str:
    """`KILL`, `SIGKILL` or `9` -> the name runc accepts (`KILL`).

    Raises:
        InvalidOptionError: unknown signal.
    """
    text = value.upper().removeprefix("SIG")
    if text.isdigit():
        try:
            return signals.Signals(int(text)).name.removeprefix("SIG")
        except ValueError:
            raise InvalidOptionError(f"Invalid signal: {value}") from None
    if f"SIG{text}" not in signals.Signals.__members__:
        raise InvalidOptionError(f"Invalid signal: {value}")
    return text


def kill(ctx: Context, ref: str, signal: str = "KILL") -> str:
    """Signal a running container; its exit is recorded by conmon's exit command.

    Raises:
        NoSuchContainerError, InvalidStateError: not running, InvalidOptionError.
    """
    name = parse_signal(signal)
    container = ctx.containers.find(ref)
    if container.status not in (Status.RUNNING, Status.PAUSED):
        raise InvalidStateError(
            f"Cannot kill container: {ref}: Container {container.id} is not running")
    with ctx.containers.locked(container.id):
        current = ctx.containers.load(container.id)
        # As dockerd: a container the user killed is not restarted by its policy.
        current.stopped_by_user = True
        ctx.containers.save(current)
    ctx.runtime(container.runtime).kill(container.id, name)
    return ref
