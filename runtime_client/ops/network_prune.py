"""`berth network prune`: remove user-defined networks no container uses."""

from __future__ import annotations

from runtime_client.ops.context import Context
from runtime_client.ops.network_inspect import members


def network_prune(ctx: Context) -> list[str]:
    """Remove unused user-defined networks; returns their names."""
    removed = []
    for network in ctx.networks.list():
        if not network.builtin and not members(ctx, network):
            ctx.networks.delete(network)
            removed.append(network.name)
    return removed
