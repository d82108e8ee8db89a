"""The network seam: `setup(id, netns) -> results` and `remove`, implemented over netavark.

netavark (with aardvark-dns for name resolution) creates the bridge, the veth pair, addresses,
iptables rules (its own NETAVARK_FORWARD chain sits ahead of Docker's FORWARD policy DROP) and
port forwarding; berth only chooses addresses (netavark's host-local IPAM takes static IPs)
and passes options as JSON on stdin (netavark 1.4: `--config DIR -a AARDVARK setup NETNS`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from runtime_client.container_errors import NetworkError
from runtime_client.network.model import Network

logger = logging.getLogger(__name__)

NETAVARK = "/usr/lib/podman/netavark"
AARDVARK_DNS = "/usr/lib/podman/aardvark-dns"


@dataclass(frozen=True)
class Attachment:
    """One network joined by a container, with the address berth chose."""

    network: Network
    interface: str
    ip: str
    aliases: Sequence[str] = ()
    mac: str = ""
    dns_servers: Sequence[str] = ()  # --dns: where aardvark-dns forwards other names


@dataclass(frozen=True)
class PortMapping:
    """A host port forwarded to a container port."""

    host_port: int
    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""


@dataclass(frozen=True)
class InterfaceResult:
    """What one network gave the container."""

    interface: str
    mac_address: str
    ip_address: str
    prefix_len: int
    gateway: str
    dns_servers: Sequence[str] = field(default_factory=tuple)


class NetworkBackend(Protocol):
    """Attach a network namespace to networks and detach it again."""

    def setup(self, container_id: str, name: str, netns: Path,
              attachments: Sequence[Attachment], ports: Sequence[PortMapping]
              ) -> dict[str, InterfaceResult]:
        """Connect the namespace; return results keyed by network name."""
        ...

    def remove(self, container_id: str, name: str, netns: Path,
               attachments: Sequence[Attachment], ports: Sequence[PortMapping]) -> None:
        """Undo `setup` for the given attachments."""
        ...


class Netavark:
    """NetworkBackend running netavark with a per-root config directory."""

    def __init__(self, config_dir: Path, binary: str = NETAVARK,
                 aardvark: str = AARDVARK_DNS) -> None:
        self.config_dir = config_dir
        self.binary = binary
        self.aardvark = aardvark

    def _options(self, container_id: str, name: str, attachments: Sequence[Attachment],
                 ports: Sequence[PortMapping]) -> dict[str, Any]:
        networks: dict[str, Any] = {}
        info: dict[str, Any] = {}
        dns_servers = [s for att in attachments for s in att.dns_servers]
        for att in attachments:
            per: dict[str, Any] = {"interface_name": att.interface, "static_ips": [att.ip]}
            if att.network.dns_enabled:
                per["aliases"] = list(att.aliases)
            if att.mac:
                per["static_mac"] = att.mac
            networks[att.network.name] = per
            info[att.network.name] = att.network.netavark_info()
        return {
            "container_id": container_id, "container_name": name,
            "port_mappings": [
                {"host_ip": p.host_ip, "container_port": p.container_port,
                 "host_port": p.host_port, "range": 1, "protocol": p.protocol}
                for p in ports
            ],
            "networks": networks, "network_info": info,
            **({"dns_servers": list(dict.fromkeys(dns_servers))} if dns_servers else {}),
        }

    def _run(self, verb: str, netns: Path, options: dict[str, Any]) -> str:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.binary, "--config", str(self.config_dir), "-a", self.aardvark, verb,
                str(netns)]
        proc = subprocess.run(argv, input=json.dumps(options), capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            detail = proc.stdout.strip() or proc.stderr.strip()
            with_error = detail
            with contextlib.suppress(json.JSONDecodeError, AttributeError):
                with_error = json.loads(detail).get("error", detail)
            raise NetworkError(f"netavark {verb} failed: {with_error}")
        return proc.stdout

    def setup(self, container_id: str, name: str, netns: Path,
              attachments: Sequence[Attachment], ports: Sequence[PortMapping]
              ) -> dict[str, InterfaceResult]:
        options = self._options(container_id, name, attachments, ports)
        raw = json.loads(self._run("setup", netns, options) or "{}")
        results: dict[str, InterfaceResult] = {}
        for att in attachments:
            status = raw.get(att.network.name, {})
            iface = status.get("interfaces", {}).get(att.interface, {})
            subnet = (iface.get("subnets") or [{}])[0]
            ipnet = subnet.get("ipnet", f"{att.ip}/24")
            ip, _, prefix = ipnet.partition("/")
            results[att.network.name] = InterfaceResult(
                interface=att.interface, mac_address=iface.get("mac_address", ""),
                ip_address=ip, prefix_len=int(prefix or 24),
                gateway=subnet.get("gateway", att.network.gateway),
                dns_servers=tuple(status.get("dns_server_ips", ())))
        return results

    def remove(self, container_id: str, name: str, netns: Path,
               attachments: Sequence[Attachment], ports: Sequence[PortMapping]) -> None:
        if not attachments:
            return
        self._run("teardown", netns, self._options(container_id, name, attachments, ports))
