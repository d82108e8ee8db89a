"""`berth network rm NETWORK...`: refuses while containers are attached."""

from __future__ import annotations

from runtime_client.container_errors import NetworkInUseError
from runtime_client.network import anchor
from runtime_client.ops.context import Context
from runtime_client.ops.network_inspect import members


def network_rm(ctx: Context, ref: str) -> str:
    """Remove a user-defined network; returns `ref`.

    Raises:
        NoSuchNetworkError, NetworkInUseError, NetworkError: a built-in network.
    """
    network = ctx.networks.get(ref)
    attached = members(ctx, network)
    if attached:
        raise NetworkInUseError(
            f"error while removing network: network {network.name} id {network.id} has "
            f"active endpoints ({', '.join(c.name for c in attached)})")
    ctx.networks.delete(network)
    anchor.release(ctx, network)
    return ref
