"""`berth system prune [-a] [--volumes]`: stopped containers, unused networks, dangling (or,
with -a, all unused) images, and with --volumes unused volumes."""

from __future__ import annotations

from dataclasses import dataclass, field

from runtime_client.network.model import BUILTIN
from runtime_client.ops.container_prune import container_prune
from runtime_client.ops.context import Context
from runtime_client.ops.network_prune import network_prune
from runtime_client.ops.volumes import remove_volume, volume_names, volume_size, volumes_in_use


@dataclass(frozen=True)
class SystemPruneOptions:
    """Options of `system prune`."""

    all: bool = False
    volumes: bool = False


@dataclass
class SystemPruneResult:
    """Everything `system prune` removed."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    reclaimed: int = 0


def system_prune(ctx: Context, opts: SystemPruneOptions) -> SystemPruneResult:
    """Remove what nothing uses."""
    result = SystemPruneResult()
    pruned = container_prune(ctx)
    result.containers, result.reclaimed = pruned.removed, pruned.reclaimed
    result.networks = [n for n in network_prune(ctx) if n not in BUILTIN]
    used_images = {c.image_id for c in ctx.containers.list()}
    for image in ctx.images.summaries():
        if image.id in used_images or (image.tags and not opts.all):
            continue
        result.reclaimed += ctx.images.remove(image.id)
        result.images.append(image.id)
    if opts.volumes:
        in_use = volumes_in_use(ctx)
        for name in volume_names(ctx):
            if name not in in_use:
                result.reclaimed += volume_size(ctx, name)
                remove_volume(ctx, name)
                result.volumes.append(name)
    return result
