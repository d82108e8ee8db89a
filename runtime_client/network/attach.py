"""Connecting a container's network namespace to its networks at start, and undoing it.

Containers on `host` share the host's namespace; on `none` runc gives them a fresh namespace
with only loopback; in `container:` mode they join another's (`shared`). Every other
container gets a named namespace (`berth-<id12>`) joined to its bridge networks through the
network backend. Addresses are chosen here (lowest free IP of the subnet among running
containers) under a root-wide lock, and leased host-wide with the published ports (`leases`),
so roots sharing a bridge or the host's ports never collide.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from runtime_client.container_errors import NetworkError, PortInUseError
from runtime_client.network import anchor, netns, shared
from runtime_client.network.leases import Holder
from runtime_client.network.model import HOST, NONE, Network, mac_for_ip, next_free_ip
from runtime_client.network.netavark import Attachment, PortMapping
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container, PortBinding
from runtime_client.runtime.store import file_lock

logger = logging.getLogger(__name__)


def uses_netns(container: Container) -> bool:
    """True when the container has its own named namespace joined to bridge networks
    (not on `host` or `none`, nor in another container's namespace)."""
    return container.network_mode not in (HOST, NONE) and \
        not shared.is_container_mode(container.network_mode)


def _holder(ctx: Context, container: Container) -> Holder:
    return Holder(str(ctx.layout.root.resolve()), container.id)


def _socket_kind(protocol: str) -> socket.SocketKind:
    return socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM


def _free_host_port(ctx: Context, container: Container, protocol: str) -> int:
    """A port no process holds and no container publishes (the kernel's pick, checked)."""
    while True:
        with socket.socket(socket.AF_INET, _socket_kind(protocol)) as s:
            s.bind(("0.0.0.0", 0))
            port = int(s.getsockname()[1])
        if not ctx.leases.port_taken(protocol, port, "", _holder(ctx, container)):
            return port


def check_ports(ctx: Context, container: Container, ports: list[PortBinding]) -> None:
    """Refuse host ports another container publishes or another process holds, as dockerd
    does when its port allocator or its userland proxy cannot have them.

    Raises:
        PortInUseError: with Docker's message.
    """
    endpoint = f"driver failed programming external connectivity on endpoint {container.name} " \
               f"({container.id})"
    for p in ports:
        host_ip = p.host_ip or "0.0.0.0"
        if ctx.leases.port_taken(p.protocol, p.host_port, p.host_ip, _holder(ctx, container)):
            raise PortInUseError(f"{endpoint}: Bind for {host_ip}:{p.host_port} failed: "
                                 "port is already allocated")
        if p.protocol == "sctp":
            continue  # no userland proxy for SCTP in dockerd either
        family = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
        with socket.socket(family, _socket_kind(p.protocol)) as s:
            if p.protocol != "udp":  # a connection in TIME_WAIT does not hold the port
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host_ip, p.host_port))
            except OSError as exc:
                reason = (exc.strerror or str(exc)).lower()
                raise PortInUseError(
                    f"{endpoint}: Error starting userland proxy: listen "
                    f"{p.protocol}{6 if family == socket.AF_INET6 else 4} "
                    f"{host_ip}:{p.host_port}: bind: {reason}") from exc


def resolve_ports(ctx: Context, container: Container) -> list[PortBinding]:
    """-p bindings plus -P (every exposed port) with free host ports filled in."""
    wanted = list(container.ports)
    if container.publish_all:
        bound = {(p.container_port, p.protocol) for p in wanted}
        for exposed in container.exposed_ports:
            port, _, proto = exposed.partition("/")
            key = (int(port), proto or "tcp")
            if key not in bound:
                wanted.append(PortBinding(key[0], key[1]))
    return [PortBinding(p.container_port, p.protocol, p.host_ip,
                        p.host_port or _free_host_port(ctx, container, p.protocol))
            for p in wanted]


def _used_ips(ctx: Context, network: Network, container: Container) -> set[str]:
    """Addresses taken on the network: by the anchor, by this root's other containers, and
    by containers of other roots on the same bridge (their leases)."""
    held = anchor.anchor_ip(network)
    used = {held} if held else set()
    for other in ctx.containers.list():
        att = other.networks.get(network.name)
        if other.id != container.id and att and att.ip_address:
            used.add(att.ip_address)
    return used | ctx.leases.addresses(network.interface, _holder(ctx, container))


def _attachment(ctx: Context, container: Container, network: Network, index: int
                ) -> Attachment:
    att = container.networks[network.name]
    used = _used_ips(ctx, network, container)
    if att.requested_ip in used:
        raise NetworkError(f"Address already in use: {att.requested_ip} on network "
                           f"{network.name}")
    ip = att.requested_ip or next_free_ip(network.subnet, network.gateway, used)
    aliases = [container.name, container.id[:12], *att.aliases]
    mac = att.requested_mac or (container.mac_address if index == 0 else "") or mac_for_ip(ip)
    return Attachment(network, f"eth{index}", ip, tuple(dict.fromkeys(aliases)), mac,
                      tuple(container.dns))


def _record(container: Container, network: Network, result_ip: str, prefix: int, gateway: str,
            mac: str, interface: str) -> None:
    att = container.networks[network.name]
    att.ip_address, att.prefix_len, att.gateway = result_ip, prefix, gateway
    att.mac_address, att.interface, att.network_id = mac, interface, network.id


@dataclass
class NetworkPlan:
    """A container's namespace with addresses chosen and recorded; `apply` wires it up."""

    ctx: Context
    container: Container
    path: Path
    attachments: list[Attachment]
    ports: list[PortBinding]

    def apply(self) -> None:
        """Run the network backend (the slow part; safe to run beside the runtime's create).

        Raises:
            NetworkError: the backend failed.
        """
        if not self.attachments:
            return
        for att in self.attachments:
            anchor.ensure(self.ctx, att.network)
        results = self.ctx.network_backend.setup(
            self.container.id, self.container.name, self.path, self.attachments,
            [PortMapping(p.host_port, p.container_port, p.protocol, p.host_ip)
             for p in self.ports])
        for att in self.attachments:
            r = results[att.network.name]
            _record(self.container, att.network, r.ip_address, r.prefix_len, r.gateway,
                    r.mac_address, att.interface)


def plan_networks(ctx: Context, container: Container) -> NetworkPlan | None:
    """Create the namespace and reserve addresses and host ports (recorded in the container).

    Returns None for `host`, `none` and `container:` (the spec then shares the host's or the
    target's namespace, or asks runc for a new one).
    """
    if not uses_netns(container):
        container.published_ports = []
        return None
    path = netns.create(ctx.layout.netns_name(container.id))
    try:
        with file_lock(ctx.layout.locks / "network.lock"), ctx.leases.locked():
            networks = [ctx.networks.get(name) for name in container.networks]
            attachments = [_attachment(ctx, container, n, i) for i, n in enumerate(networks)]
            ports = resolve_ports(ctx, container) if attachments else []
            check_ports(ctx, container, ports)
            for att in attachments:
                prefix = ipaddress.ip_network(att.network.subnet).prefixlen
                _record(container, att.network, att.ip, prefix, att.network.gateway,
                        att.mac, att.interface)
            container.published_ports = ports
            ctx.leases.take(_holder(ctx, container),
                            [(a.network.interface, a.ip) for a in attachments],
                            [(p.protocol, p.host_port, p.host_ip) for p in ports])
            ctx.containers.save(container)  # the addresses are taken from here on
    except BaseException:
        netns.delete(ctx.layout.netns_name(container.id))
        raise
    return NetworkPlan(ctx, container, path, attachments, ports)


def _current_attachments(ctx: Context, container: Container) -> list[Attachment]:
    found = []
    for name, att in container.networks.items():
        if not att.ip_address:
            continue
        try:
            network = ctx.networks.get(name)
        except NetworkError:
            continue
        aliases = (container.name, container.id[:12], *att.aliases)
        found.append(Attachment(network, att.interface or "eth0", att.ip_address,
                                tuple(dict.fromkeys(aliases)), att.mac_address))
    return found


def disconnect_all(ctx: Context, container: Container) -> None:
    """Leave every network and delete the namespace (errors are logged, not raised)."""
    if not uses_netns(container):
        return
    name = ctx.layout.netns_name(container.id)
    path = netns.netns_path(name)
    with file_lock(ctx.layout.locks / "network.lock"):
        attachments = _current_attachments(ctx, container)
        ports = [PortMapping(p.host_port, p.container_port, p.protocol, p.host_ip)
                 for p in container.published_ports]
        try:
            ctx.network_backend.remove(container.id, container.name, path, attachments, ports)
        except NetworkError as exc:
            logger.warning("network teardown of %s: %s", container.id[:12], exc)
        for att in container.networks.values():
            att.ip_address, att.mac_address, att.gateway, att.prefix_len = "", "", "", 0
        container.published_ports = []
        with ctx.leases.locked():
            ctx.leases.release(_holder(ctx, container))
    netns.delete(name)


def connect_one(ctx: Context, container: Container, network: Network) -> None:
    """Join a running container to one more network (live `network connect`)."""
    path = netns.netns_path(ctx.layout.netns_name(container.id))
    anchor.ensure(ctx, network)
    with file_lock(ctx.layout.locks / "network.lock"), ctx.leases.locked():
        index = len([a for a in container.networks.values() if a.ip_address])
        att = _attachment(ctx, container, network, index)
        ctx.leases.take(_holder(ctx, container), [(network.interface, att.ip)], [])
        results = ctx.network_backend.setup(container.id, container.name, path, [att], [])
        r = results[network.name]
        _record(container, network, r.ip_address, r.prefix_len, r.gateway, r.mac_address,
                att.interface)
        ctx.containers.save(container)  # the address is taken from here on (its lease holds)


def disconnect_one(ctx: Context, container: Container, network: Network) -> None:
    """Remove a running container from one network (live `network disconnect`)."""
    path = netns.netns_path(ctx.layout.netns_name(container.id))
    with file_lock(ctx.layout.locks / "network.lock"):
        atts = [a for a in _current_attachments(ctx, container) if a.network.name == network.name]
        ctx.network_backend.remove(container.id, container.name, path, atts, [])


def all_addresses(container: Container) -> list[str]:
    """The container's current IPv4 addresses."""
    return [a.ip_address for a in container.networks.values() if a.ip_address]

