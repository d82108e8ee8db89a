"""Host-wide leases: what one berth root holds is seen by another, until its record lets go."""

from __future__ import annotations

import json
from pathlib import Path

from runtime_client.network.leases import Holder, Leases


def _record(root: Path, container: str, ips: list[str], ports: list[dict[str, object]]) -> None:
    path = root / "containers" / container / "container.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "networks": {f"net{i}": {"ip_address": ip} for i, ip in enumerate(ips)},
        "published_ports": ports,
    }))


def test_a_lease_counts_while_its_container_record_lists_it(tmp_path: Path) -> None:
    leases = Leases(tmp_path / "leases")
    root_a, root_b = tmp_path / "a", tmp_path / "b"
    holder, other = Holder(str(root_a), "c1"), Holder(str(root_b), "c2")
    _record(root_a, "c1", ["10.89.0.2"],
            [{"host_port": 8080, "protocol": "tcp", "host_ip": ""}])
    leases.take(holder, [("berth0", "10.89.0.2")], [("tcp", 8080, "")])
    assert leases.addresses("berth0", other) == {"10.89.0.2"}
    assert leases.addresses("berth1", other) == set()
    assert leases.addresses("berth0", holder) == set()  # its own lease never blocks it
    assert leases.port_taken("tcp", 8080, "", other)
    assert leases.port_taken("tcp", 8080, "127.0.0.1", other)  # 0.0.0.0 covers every address
    assert not leases.port_taken("udp", 8080, "", other)
    assert not leases.port_taken("tcp", 8081, "", other)
    _record(root_a, "c1", [], [])  # stopped: the record no longer lists them
    assert leases.addresses("berth0", other) == set()
    assert not leases.port_taken("tcp", 8080, "", other)


def test_leases_of_a_vanished_root_are_ignored_and_release_drops_them(tmp_path: Path) -> None:
    leases = Leases(tmp_path / "leases")
    gone = Holder(str(tmp_path / "deleted-root"), "c9")
    leases.take(gone, [("berth0", "10.89.0.5")], [("tcp", 9000, "127.0.0.1")])
    other = Holder(str(tmp_path / "b"), "c2")
    assert leases.addresses("berth0", other) == set()
    assert not leases.port_taken("tcp", 9000, "", other)
    leases.release(gone)
    assert sorted(p.name for p in (tmp_path / "leases").iterdir()) == []
