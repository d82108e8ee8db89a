"""`berth container inspect` (and `berth inspect` for containers)."""

from __future__ import annotations

from typing import Any

from runtime_client.ops.context import Context
from runtime_client.ops.views import inspect as inspect_view
from runtime_client.runtime import lifecycle


def inspect(ctx: Context, ref: str) -> dict[str, Any]:
    """Docker's inspect JSON of one container.

    Raises:
        NoSuchContainerError.
    """
    container = lifecycle.refresh(ctx, ctx.containers.find(ref))
    return inspect_view(container, ctx.layout, ctx.snapshots)
