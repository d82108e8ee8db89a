"""`berth system prune [-a] [--volumes] [--filter ...]`: stopped containers, unused networks,
dangling (or, with -a, all unused) images, and with --volumes unused volumes.

The filters go to each kind in the docker CLI's order (containers, networks, volumes, images),
and each kind checks them as dockerd does, so a key one kind refuses stops the prune there,
after what came before it was removed. berth keeps no build cache, but dockerd's build-cache
step, which comes last, takes `until` only as a Go duration (`24h`), so a timestamp fails
there after everything else was pruned; berth answers the same (`build_cache_error`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from runtime_client.humanize import parse_time
from runtime_client.network.model import BUILTIN
from runtime_client.ops.container_prune import container_prune
from runtime_client.ops.context import Context
from runtime_client.ops.network_prune import network_prune
from runtime_client.ops.prune_filters import (
    CONTAINER_KEYS,
    IMAGE_KEYS,
    NETWORK_KEYS,
    VOLUME_KEYS,
    PruneFilter,
)
from runtime_client.ops.volume_prune import volume_prune
from runtime_client.timefilter import go_duration_error


@dataclass(frozen=True)
class SystemPruneOptions:
    """Options of `system prune`."""

    all: bool = False
    volumes: bool = False
    filters: PruneFilter = field(default_factory=PruneFilter)


@dataclass
class SystemPruneResult:
    """Everything `system prune` removed."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    reclaimed: int = 0
    build_cache_error: str | None = None  # dockerd's answer to an `until` it cannot read


def system_prune(ctx: Context, opts: SystemPruneOptions,
                 now: datetime | None = None) -> SystemPruneResult:
    """Remove what nothing uses (and the filters allow).

    Raises:
        InvalidOptionError: a filter one kind refuses (what came before it is removed).
    """
    now = now or datetime.now(UTC)
    result = SystemPruneResult()
    pruned = container_prune(ctx, opts.filters.validated(CONTAINER_KEYS, now))
    result.containers, result.reclaimed = pruned.removed, pruned.reclaimed
    networks = network_prune(ctx, opts.filters.validated(NETWORK_KEYS, now))
    result.networks = [n for n in networks if n not in BUILTIN]
    if opts.volumes:
        # Docker 23+: anonymous volumes only (`volume prune -a` is the way to the named ones).
        pruned = volume_prune(ctx, opts.filters.validated(VOLUME_KEYS, now))
        result.volumes, result.reclaimed = pruned.removed, result.reclaimed + pruned.reclaimed
    images = opts.filters.validated(IMAGE_KEYS, now)
    prune_tagged = opts.all or images.prunes_tagged
    used_images = {c.image_id for c in ctx.containers.list()}
    for image in ctx.images.summaries():
        if image.id in used_images or (image.tags and not prune_tagged):
            continue
        if not images.allows(parse_time(image.created), image.labels):
            continue
        result.reclaimed += ctx.images.remove(image.id)
        result.images.append(image.id)
    until = opts.filters.values.get("until", ())
    if until and (error := go_duration_error(until[0])):
        result.build_cache_error = ('failed to prune build cache: "until" filter expects a '
                                    f"duration (e.g., '24h'): {error}")
    return result

