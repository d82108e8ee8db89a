"""`berth diff`: what the container added (A), changed (C) and deleted (D) against its image."""

from __future__ import annotations

from runtime_client.ops.context import Context


def diff(ctx: Context, ref: str) -> list[str]:
    """Docker's `diff` lines (`C /etc`, `A /etc/new`, `D /etc/old`), sorted by path.

    Raises:
        NoSuchContainerError.
    """
    container = ctx.containers.find(ref)
    return [f"{c.kind.value} {c.path}" for c in ctx.snapshots.changes(container.id)]
