"""`berth restart [-t SECONDS]`: stop (if running), then start."""

from __future__ import annotations

from runtime_client.ops.context import Context
from runtime_client.ops.start import start
from runtime_client.ops.stop import stop


def restart(ctx: Context, ref: str, timeout: int | None = None) -> str:
    """Restart a container; returns `ref`.

    Raises:
        NoSuchContainerError, OciRuntimeError, NetworkError.
    """
    stop(ctx, ref, timeout)
    start(ctx, ref)
    return ref
