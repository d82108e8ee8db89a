"""`berth restart [-t SECONDS]`: stop (if running), then start."""

from __future__ import annotations

from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError
from runtime_client.ops.context import Context
from runtime_client.ops.start import start
from runtime_client.ops.stop import stop


class RestartError(ContainerError):
    """Stopping or starting failed; worded as dockerd's `Cannot restart container NAME: ...`."""


def restart(ctx: Context, ref: str, timeout: int | None = None) -> str:
    """Restart a container; returns `ref`.

    Raises:
        NoSuchContainerError: nothing matches `ref`.
        RestartError: the stop or the start failed (dockerd's wording around the cause).
    """
    ctx.containers.find(ref)
    try:
        stop(ctx, ref, timeout)
        start(ctx, ref)
    except (ContainerError, RuntimeClientError) as exc:
        raise RestartError(f"Cannot restart container {ref}: {exc}") from exc
    return ref
