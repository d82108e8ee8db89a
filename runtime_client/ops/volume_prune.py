"""`berth volume prune [-a] [--filter label=...]` (and `system prune --volumes`): remove the
volumes no container uses, as dockerd 23+ does: anonymous ones only unless `all` is asked for."""

from __future__ import annotations

from runtime_client.ops.container_prune import PruneResult
from runtime_client.ops.context import Context
from runtime_client.ops.prune_filters import PruneFilter
from runtime_client.ops.volumes import volume_users


def volume_prune(ctx: Context, filters: PruneFilter | None = None,
                 all_volumes: bool = False) -> PruneResult:
    """Remove unused volumes (anonymous ones unless `all_volumes`) that the filters allow.

    Args:
        ctx: the berth root's stores.
        filters: `label`/`label!`, already `validated` for volumes.
        all_volumes: named volumes too (`-a`).
    """
    removed: list[str] = []
    reclaimed = 0
    with ctx.volumes.locked():
        users = volume_users(ctx)
        for volume in ctx.volumes.list():
            if users.get(volume.name) or not (all_volumes or volume.anonymous):
                continue
            if filters and not filters.allows(None, volume.labels):
                continue
            reclaimed += ctx.volumes.size(volume.name)
            ctx.volumes.remove(volume.name)
            removed.append(volume.name)
    return PruneResult(removed, reclaimed)
