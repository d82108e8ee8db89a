"""`berth system df`: space used by images, containers and volumes."""

from __future__ import annotations

from dataclasses import dataclass

from runtime_client.ops.context import Context
from runtime_client.ops.volumes import volume_users
from runtime_client.runtime.container import Status


@dataclass(frozen=True)
class DfRow:
    """One line of `system df`."""

    type: str
    total: int
    active: int
    size: int
    reclaimable: int


def system_df(ctx: Context) -> list[DfRow]:
    """Images, Containers, Local Volumes and Build Cache (always empty: berth has no build)."""
    containers = ctx.containers.list()
    used_images = {c.image_id for c in containers}
    images = ctx.images.summaries()
    image_size = sum(i.size for i in images)
    unused_image_size = sum(i.size for i in images if i.id not in used_images)
    running = [c for c in containers if c.status in (Status.RUNNING, Status.PAUSED)]
    sizes = {c.id: ctx.snapshots.usage(c.id) if ctx.snapshots.exists(c.id) else 0
             for c in containers}
    stopped_size = sum(sizes[c.id] for c in containers if c not in running)
    names = [v.name for v in ctx.volumes.list()]
    in_use = volume_users(ctx)
    vsizes = {n: ctx.volumes.size(n) for n in names}
    return [
        DfRow("Images", len(images), len([i for i in images if i.id in used_images]),
              image_size, unused_image_size),
        DfRow("Containers", len(containers), len(running), sum(sizes.values()), stopped_size),
        DfRow("Local Volumes", len(names), len([n for n in names if n in in_use]),
              sum(vsizes.values()), sum(s for n, s in vsizes.items() if n not in in_use)),
        DfRow("Build Cache", 0, 0, 0, 0),
    ]
