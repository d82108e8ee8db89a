"""Host-wide leases on what all berth roots share: addresses on a bridge and host ports.

Every berth root on a host joins the same default bridge (`berth0`, 10.89.0.0/24) and
publishes ports on the same host. A root chooses addresses and checks ports under its own
lock; these leases, on /run (gone after a reboot, as every container's network is), let the
roots see each other's choices:

```
/run/berth/leases/
  lock                              flock held while leases are read and taken
  ip-<interface>-<address>          {"root": ..., "container": ...}
  port-<proto>-<port>-<host ip>     {"root": ..., "container": ...}
```

A lease counts while the record of its container, in its root, still lists that address or
published port; one left behind by a crash or by a deleted root is ignored and replaced.
Leases are taken under the root's network lock, then this one (always in that order).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime_client.runtime.store import file_lock

__all__ = ["DEFAULT_DIRECTORY", "Holder", "Leases"]

logger = logging.getLogger(__name__)

DEFAULT_DIRECTORY = Path("/run/berth/leases")
_ANY = "0.0.0.0"


@dataclass(frozen=True)
class Holder:
    """A container of one berth root."""

    root: str
    container: str


def _address_key(interface: str, ip: str) -> str:
    return f"ip-{interface}-{ip}"


def _port_key(protocol: str, port: int, host_ip: str) -> str:
    return f"port-{protocol}-{port}-{host_ip or _ANY}"


class Leases:
    """The lease directory (`DEFAULT_DIRECTORY` unless a test gives another)."""

    def __init__(self, directory: Path = DEFAULT_DIRECTORY) -> None:
        self.directory = directory

    def locked(self) -> contextlib.AbstractContextManager[None]:
        """Held while leases are read and taken, so two roots cannot take the same one."""
        return file_lock(self.directory / "lock")

    def _holder(self, key: str) -> Holder | None:
        try:
            raw = json.loads((self.directory / key).read_text())
            return Holder(raw["root"], raw["container"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _holds(self, holder: Holder, key: str) -> bool:
        """Whether the holder's record still lists what `key` names."""
        record_path = Path(holder.root) / "containers" / holder.container / "container.json"
        try:
            record: dict[str, Any] = json.loads(record_path.read_text())
        except (OSError, ValueError):
            return False
        kind, _, rest = key.partition("-")
        if kind == "ip":
            ip = rest.rpartition("-")[2]
            return any(att.get("ip_address") == ip
                       for att in (record.get("networks") or {}).values())
        protocol, port, host_ip = rest.split("-", 2)
        return any(str(p.get("host_port")) == port and p.get("protocol") == protocol
                   and (p.get("host_ip") or _ANY) == host_ip
                   for p in record.get("published_ports") or [])

    def _live(self, prefix: str, holder: Holder) -> Iterator[str]:
        """Keys starting with `prefix` held by a container other than `holder`."""
        with contextlib.suppress(FileNotFoundError):
            for path in self.directory.glob(prefix + "*"):
                other = self._holder(path.name)
                if other is not None and other != holder and self._holds(other, path.name):
                    yield path.name

    def addresses(self, interface: str, holder: Holder) -> set[str]:
        """Addresses on `interface` leased to other containers (any root)."""
        prefix = f"ip-{interface}-"
        return {key.removeprefix(prefix) for key in self._live(prefix, holder)}

    def port_taken(self, protocol: str, port: int, host_ip: str, holder: Holder) -> bool:
        """Whether another container publishes `port` on `host_ip` (or on every address)."""
        for key in self._live(f"port-{protocol}-{port}-", holder):
            other_ip = key.rsplit("-", 1)[1]
            if _ANY in (other_ip, host_ip or _ANY) or other_ip == host_ip:
                return True
        return False

    def take(self, holder: Holder, addresses: Iterable[tuple[str, str]],
             ports: Iterable[tuple[str, int, str]]) -> None:
        """Lease (interface, ip) addresses and (protocol, port, host ip) ports to `holder`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"root": holder.root, "container": holder.container})
        keys = [_address_key(i, ip) for i, ip in addresses]
        keys += [_port_key(proto, port, ip) for proto, port, ip in ports]
        for key in keys:
            tmp = self.directory / f".{key}.{os.getpid()}"
            tmp.write_text(body)
            os.replace(tmp, self.directory / key)

    def release(self, holder: Holder) -> None:
        """Drop every lease `holder` has."""
        for pattern in ("ip-*", "port-*"):
            for path in self.directory.glob(pattern):
                if self._holder(path.name) == holder:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
