"""`berth container prune`: remove every stopped container (that the filters allow)."""

from __future__ import annotations

from dataclasses import dataclass

from runtime_client.container_errors import NoSuchContainerError
from runtime_client.humanize import parse_time
from runtime_client.ops.context import Context
from runtime_client.ops.prune_filters import PruneFilter
from runtime_client.ops.rm import remove_container
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Status


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed and how many bytes that freed."""

    removed: list[str]
    reclaimed: int


def container_prune(ctx: Context, filters: PruneFilter | None = None) -> PruneResult:
    """Remove containers that are not running or paused.

    Args:
        ctx: the berth root's stores.
        filters: `until`/`label`/`label!`, already `validated` for containers.
    """
    removed: list[str] = []
    reclaimed = 0
    for container in ctx.containers.list():
        if filters and not filters.allows(parse_time(container.created), container.labels):
            continue
        try:
            container = lifecycle.refresh(ctx, container)
            if container.status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING):
                continue
            size = ctx.snapshots.usage(container.id) if ctx.snapshots.exists(
                container.id) else 0
            remove_container(ctx, container.id, force=False)
        except NoSuchContainerError:
            continue  # removed meanwhile
        reclaimed += size
        removed.append(container.id)
    return PruneResult(removed, reclaimed)
