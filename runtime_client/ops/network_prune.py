"""`berth network prune`: remove user-defined networks no container uses.

Built-in networks stay, but an unused `bridge` gives up its anchor (its bridge device and
firewall rules; see `network.anchor`) until the next container joins it.
"""

from __future__ import annotations

from runtime_client.humanize import parse_time
from runtime_client.network import anchor
from runtime_client.ops.context import Context
from runtime_client.ops.network_inspect import members
from runtime_client.ops.prune_filters import PruneFilter


def network_prune(ctx: Context, filters: PruneFilter | None = None) -> list[str]:
    """Remove unused user-defined networks; returns their names.

    Args:
        ctx: the berth root's stores.
        filters: `until`/`label`/`label!`, already `validated` for networks (a network they
            spare keeps its anchor too).
    """
    removed = []
    for network in ctx.networks.list():
        if members(ctx, network):
            continue
        if filters and not filters.allows(parse_time(network.created), network.labels):
            continue
        if not network.builtin:
            ctx.networks.delete(network)
            removed.append(network.name)
        anchor.release(ctx, network)
    return removed
