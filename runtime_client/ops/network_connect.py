"""`berth network connect [--ip IP] [--alias NAME] NETWORK CONTAINER` (live when running)."""

from __future__ import annotations

from dataclasses import dataclass

from runtime_client.container_errors import NetworkError
from runtime_client.network import attach
from runtime_client.network.model import HOST, NONE
from runtime_client.network.shared import is_container_mode
from runtime_client.ops.context import Context
from runtime_client.runtime.container import NetworkAttachment, Status
from runtime_client.runtime.etcfiles import hosts_file


@dataclass(frozen=True)
class NetworkConnectOptions:
    """Options of `network connect`."""

    network: str
    container: str
    ip: str = ""
    aliases: tuple[str, ...] = ()


def network_connect(ctx: Context, opts: NetworkConnectOptions) -> None:
    """Attach a container to one more network.

    Raises:
        NoSuchNetworkError, NoSuchContainerError, NetworkError: already attached, or the
        container uses host/none networking or another container's namespace.
    """
    network = ctx.networks.get(opts.network)
    found = ctx.containers.find(opts.container)
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        if is_container_mode(container.network_mode):
            raise NetworkError("container sharing network namespace with another container or "
                               "host cannot be connected to any other network")
        if container.network_mode in (HOST, NONE) or network.name in (HOST, NONE):
            raise NetworkError("container cannot be disconnected from host network or "
                               "connected to host network" if HOST in (
                                   container.network_mode, network.name) else
                               "container sharing network namespace with none cannot "
                               "be connected")
        if network.name in container.networks:
            raise NetworkError(
                f"endpoint with name {container.name} already exists in network {network.name}")
        container.networks[network.name] = NetworkAttachment(
            aliases=list(opts.aliases), requested_ip=opts.ip)
        if container.status in (Status.RUNNING, Status.PAUSED):
            try:
                attach.connect_one(ctx, container, network)
            except BaseException:
                del container.networks[network.name]
                raise
            (ctx.layout.container_dir(container.id) / "hosts").write_text(hosts_file(
                container.hostname, attach.all_addresses(container), container.extra_hosts))
        ctx.containers.save(container)
