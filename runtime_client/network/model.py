"""Network definitions: the built-in `bridge`, `host` and `none`, and user-defined bridges.

Subnets come from 10.89.0.0/16 (one /24 per network, like Podman), away from Docker's
172.17.0.0/16. The default `bridge` network uses 10.89.0.0/24 on interface `berth0` and, like
Docker's default bridge, has no name resolution; user-defined networks get aardvark-dns.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_BRIDGE = "bridge"
HOST = "host"
NONE = "none"
BUILTIN = (DEFAULT_BRIDGE, HOST, NONE)
SUBNET_POOL = ipaddress.ip_network("10.89.0.0/16")
DEFAULT_BRIDGE_GATEWAY = "10.89.0.1"


@dataclass(frozen=True)
class Network:
    """One network as berth stores it."""

    name: str
    id: str
    driver: str  # bridge | host | null
    interface: str = ""
    subnet: str = ""
    gateway: str = ""
    internal: bool = False
    dns_enabled: bool = False
    created: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Network:
        return cls(**raw)

    def netavark_info(self) -> dict[str, Any]:
        """The network as netavark 1.4 reads it (`network_info` in its options)."""
        return {
            "name": self.name, "id": self.id, "driver": "bridge",
            "network_interface": self.interface,
            "subnets": [{"subnet": self.subnet, "gateway": self.gateway}],
            "ipv6_enabled": False, "internal": self.internal, "dns_enabled": self.dns_enabled,
            "ipam_options": {"driver": "host-local"},
            "options": {"isolate": "true"},
        }


def network_id(name: str) -> str:
    """A stable 64-hex ID for a network name."""
    return hashlib.sha256(f"berth-network:{name}".encode()).hexdigest()


def builtin_networks() -> list[Network]:
    """The three networks every berth root has."""
    return [
        Network(DEFAULT_BRIDGE, network_id(DEFAULT_BRIDGE), "bridge", "berth0",
                "10.89.0.0/24", DEFAULT_BRIDGE_GATEWAY),
        Network(HOST, network_id(HOST), "host"),
        Network(NONE, network_id(NONE), "null"),
    ]


def parse_subnet(subnet: str, gateway: str | None) -> tuple[str, str]:
    """Validate a subnet and gateway; the gateway defaults to the first host address.

    Raises:
        ValueError: malformed subnet, or a gateway outside it.
    """
    net = ipaddress.ip_network(subnet, strict=False)
    if net.version != 4:
        raise ValueError("only IPv4 subnets are supported")
    gw = ipaddress.ip_address(gateway) if gateway else next(net.hosts())
    if gw not in net:
        raise ValueError(f"gateway {gw} is not in subnet {net}")
    return str(net), str(gw)


def mac_for_ip(ip: str) -> str:
    """Docker's MAC address for an IPv4 endpoint: 02:42 then the address's four bytes.

    A container that comes back on the same address keeps its MAC, so the neighbour entries
    the host and its peers hold for that address stay right and it answers at once.
    """
    return ":".join(f"{byte:02x}" for byte in (0x02, 0x42, *ipaddress.IPv4Address(ip).packed))


def next_free_ip(subnet: str, gateway: str, used: set[str]) -> str:
    """The lowest host address in `subnet` that is neither the gateway nor in `used`.

    Raises:
        ValueError: the subnet is full.
    """
    for host in ipaddress.ip_network(subnet).hosts():
        text = str(host)
        if text != gateway and text not in used:
            return text
    raise ValueError(f"no free IP address left in {subnet}")
