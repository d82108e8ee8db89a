"""`berth network disconnect NETWORK CONTAINER` (live when running)."""

from __future__ import annotations

from runtime_client.container_errors import NetworkError
from runtime_client.network import attach
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Status


def network_disconnect(ctx: Context, network_ref: str, container_ref: str) -> None:
    """Detach a container from a network.

    Raises:
        NoSuchNetworkError, NoSuchContainerError, NetworkError: not attached.
    """
    network = ctx.networks.get(network_ref)
    found = ctx.containers.find(container_ref)
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        if network.name not in container.networks:
            raise NetworkError(
                f"container {container.id} is not connected to network {network.name}")
        if container.status in (Status.RUNNING, Status.PAUSED):
            attach.disconnect_one(ctx, container, network)
        del container.networks[network.name]
        ctx.containers.save(container)
