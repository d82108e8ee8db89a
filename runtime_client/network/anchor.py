"""Anchors: a bridge network keeps its bridge, firewall rules and DNS server between containers.

netavark removes a bridge, its NAT and forwarding chains and its aardvark-dns server when the
last interface leaves the bridge, and builds them all again for the next container: a dozen
iptables calls each way, most of the cost of a short `berth run --rm` on a bridge network.
Docker keeps a network's bridge and rules for as long as the network exists. Berth gets the
same through netavark itself: one more member, an empty network namespace with no process in
it (`berth-anchor-<interface>`), holding the subnet's last host address. It is attached when
the first container joins and detached by `network rm` and `network prune`; netavark's own
teardown of that last member then removes the bridge and its rules.
"""

from __future__ import annotations

import ipaddress
import logging

from runtime_client.container_errors import NetworkError
from runtime_client.network import netns
from runtime_client.network.model import Network, mac_for_ip
from runtime_client.network.netavark import Attachment
from runtime_client.ops.context import Context
from runtime_client.runtime.store import file_lock

logger = logging.getLogger(__name__)

ANCHOR_NAME = "berth-anchor"
_MIN_HOSTS = 4  # a smaller subnet keeps every address for containers


def anchor_ip(network: Network) -> str | None:
    """The address the anchor holds: the subnet's last host address, or None (no anchor)."""
    if network.driver != "bridge" or not network.subnet or not network.interface:
        return None
    subnet = ipaddress.ip_network(network.subnet)
    if subnet.num_addresses - 2 < _MIN_HOSTS:
        return None
    return str(subnet.broadcast_address - 1)


def _netns_name(network: Network) -> str:
    return f"{ANCHOR_NAME}-{network.interface}"


def _attachment(network: Network, ip: str) -> Attachment:
    return Attachment(network, "eth0", ip, mac=mac_for_ip(ip))


def ensure(ctx: Context, network: Network) -> None:
    """Attach the network's anchor unless it is there already (failures are only logged)."""
    ip = anchor_ip(network)
    name = _netns_name(network)
    if ip is None or netns.netns_path(name).exists():
        return
    with file_lock(ctx.layout.locks / "network.lock"):
        if netns.netns_path(name).exists():
            return
        try:
            path = netns.create(name)
            ctx.network_backend.setup(network.id, ANCHOR_NAME, path,
                                      [_attachment(network, ip)], [])
        except NetworkError as exc:
            logger.warning("network %s stays without an anchor: %s", network.name, exc)
            netns.delete(name)


def release(ctx: Context, network: Network) -> None:
    """Detach the network's anchor, which takes its bridge and rules down if it was the last."""
    ip = anchor_ip(network)
    name = _netns_name(network)
    if ip is None or not netns.netns_path(name).exists():
        return
    with file_lock(ctx.layout.locks / "network.lock"):
        try:
            ctx.network_backend.remove(network.id, ANCHOR_NAME, netns.netns_path(name),
                                       [_attachment(network, ip)], [])
        except NetworkError as exc:
            logger.warning("releasing the anchor of network %s: %s", network.name, exc)
        netns.delete(name)
