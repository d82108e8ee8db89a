"""Persisted networks under `<root>/networks/<name>.json`, plus the built-in three."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
from datetime import UTC, datetime

from runtime_client.container_errors import InvalidOptionError, NetworkError, NoSuchNetworkError
from runtime_client.layout import Layout
from runtime_client.network.model import (
    SUBNET_POOL,
    Network,
    builtin_networks,
    network_id,
    parse_subnet,
)

logger = logging.getLogger(__name__)


class NetworkStore:
    """Network definitions on disk."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        layout.networks.mkdir(parents=True, exist_ok=True)

    def list(self) -> list[Network]:
        """Built-in networks first, then user-defined ones by name."""
        user = []
        for path in sorted(self.layout.networks.glob("*.json")):
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                user.append(Network.from_dict(json.loads(path.read_text())))
        return builtin_networks() + user

    def get(self, ref: str) -> Network:
        """A network by name, full ID, or unique ID prefix.

        Raises:
            NoSuchNetworkError: nothing matches.
        """
        networks = self.list()
        for net in networks:
            if ref in (net.name, net.id):
                return net
        matches = [n for n in networks if ref and n.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        raise NoSuchNetworkError(ref)

    def create(self, name: str, driver: str = "bridge", subnet: str | None = None,
               gateway: str | None = None, internal: bool = False,
               labels: dict[str, str] | None = None) -> Network:
        """Define a user bridge network (no interface exists until a container joins).

        Raises:
            NetworkError: the name exists, the driver is unsupported, or the subnet overlaps.
        """
        if driver != "bridge":
            raise NetworkError(
                f'plugin "{driver}" not found: berth supports only the bridge driver '
                "(the multi-host overlay driver is not implemented)")
        if any(n.name == name for n in self.list()):
            raise NetworkError(f"network with name {name} already exists")
        existing = [n for n in self.list() if n.subnet]
        taken = [ipaddress.ip_network(n.subnet) for n in existing]
        if subnet:
            try:
                net_text, gw = parse_subnet(subnet, gateway)
            except ValueError as exc:
                raise InvalidOptionError(f"invalid subnet: {exc}") from exc
            if any(ipaddress.ip_network(net_text).overlaps(t) for t in taken):
                raise NetworkError(f"Pool overlaps with other one on this address space: {subnet}")
        else:
            for candidate in SUBNET_POOL.subnets(new_prefix=24):
                if not any(candidate.overlaps(t) for t in taken):
                    net_text, gw = parse_subnet(str(candidate), None)
                    break
            else:
                raise NetworkError("no free subnet left in 10.89.0.0/16")
        used_ifaces = {n.interface for n in existing}
        index = 1
        while f"berth{index}" in used_ifaces:
            index += 1
        network = Network(name, network_id(name + datetime.now(UTC).isoformat()), "bridge",
                          f"berth{index}", net_text, gw, internal=internal, dns_enabled=True,
                          created=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                          labels=labels or {})
        path = self.layout.networks / f"{name}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(network.to_dict()))
        os.replace(tmp, path)
        return network

    def delete(self, network: Network) -> None:
        """Forget a user-defined network."""
        if network.builtin:
            raise NetworkError(f"{network.name} is a pre-defined network and cannot be removed")
        with contextlib.suppress(FileNotFoundError):
            (self.layout.networks / f"{network.name}.json").unlink()
