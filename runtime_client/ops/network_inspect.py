"""`berth network inspect NETWORK`: Docker's JSON, with member containers' IP and MAC."""

from __future__ import annotations

from typing import Any

from runtime_client.network.model import Network
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container


def members(ctx: Context, network: Network) -> list[Container]:
    """Containers attached to `network` (running or not)."""
    return [c for c in ctx.containers.list() if network.name in c.networks]


def network_inspect(ctx: Context, ref: str) -> dict[str, Any]:
    """Docker's `network inspect` object.

    Raises:
        NoSuchNetworkError.
    """
    network = ctx.networks.get(ref)
    containers: dict[str, Any] = {}
    for c in members(ctx, network):
        att = c.networks[network.name]
        if not att.ip_address:
            continue
        containers[c.id] = {
            "Name": c.name, "EndpointID": c.id, "MacAddress": att.mac_address,
            "IPv4Address": f"{att.ip_address}/{att.prefix_len}", "IPv6Address": "",
        }
    config = [{"Subnet": network.subnet, "Gateway": network.gateway}] if network.subnet else []
    return {
        "Name": network.name, "Id": network.id, "Created": network.created or "",
        "Scope": "local", "Driver": network.driver, "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": {}, "Config": config},
        "Internal": network.internal, "Attachable": False, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
        "Containers": containers,
        "Options": {"com.docker.network.bridge.name": network.interface}
        if network.interface else {},
        "Labels": network.labels,
    }
