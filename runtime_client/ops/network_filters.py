"""`network ls --filter KEY=VALUE`: which networks a filter set keeps, as dockerd decides.

dockerd's rules (API `GET /networks`): `driver` and `scope` match exactly; `name` and `id` match
exactly or as an unanchored regular expression (one that does not compile matches nothing);
values of one key are alternatives. `label` (`KEY` or `KEY=VALUE`) values must all hold.
`dangling` (`true`/`1` or `false`/`0`, one value) keeps the user-defined networks without
an endpoint (a running container), or else the others; what counts as in use is the
caller's to say (dockerd 20.10's list counts nothing, see `ops.network_ls`). `type`
(`builtin`, `custom`) is applied last. Keys are lowercased and values trimmed, as the docker
CLI sends them; a bad `dangling` or `type` value is an error only when dockerd gets that far.

Not in scope: swarm networks (every network's scope is `local`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime_client.container_errors import InvalidOptionError
from runtime_client.errors import UsageError
from runtime_client.network.model import Network

__all__ = ["NetworkFilter", "parse_network_filters"]

_KEYS = ("dangling", "driver", "id", "label", "name", "scope", "type")


@dataclass(frozen=True)
class NetworkFilter:
    """Parsed `--filter` values by key (empty: keeps everything)."""

    values: dict[str, tuple[str, ...]]

    def __bool__(self) -> bool:
        return bool(self.values)

    def apply(self, networks: Sequence[Network], in_use: Callable[[Network], bool]
              ) -> list[Network]:
        """The networks the filters keep, in dockerd's order of checks.

        Args:
            networks: every network.
            in_use: whether a network has an active endpoint (a running container on it).

        Raises:
            InvalidOptionError: a bad `dangling` or `type` value (dockerd checks them only
                when it applies them).
        """
        kept = [n for n in networks if self._matches(n)]
        dangling = self.values.get("dangling", ())
        if dangling:
            if len(dangling) > 1:
                raise InvalidOptionError('got more than one value for filter key "dangling"')
            if dangling[0] not in ("0", "1", "false", "true"):
                raise InvalidOptionError("invalid value for filter 'dangling', must be "
                                         '"true" (or "1"), or "false" (or "0")')
            only = dangling[0] in ("1", "true")
            kept = [n for n in kept if (not n.builtin and not in_use(n)) == only]
        if "type" in self.values:
            typed = []
            for value in self.values["type"]:
                if value not in ("builtin", "custom"):
                    raise InvalidOptionError(f"invalid filter: 'type'='{value}'")
                typed += [n for n in kept if n.builtin == (value == "builtin")]
            kept = typed
        return kept

    def _matches(self, network: Network) -> bool:
        exact = {"driver": network.driver, "scope": "local"}
        for key, value in exact.items():
            if key in self.values and value not in self.values[key]:
                return False
        for key, value in (("name", network.name), ("id", network.id)):
            if key in self.values and not any(_match(v, value) for v in self.values[key]):
                return False
        return all(_has_label(network, value) for value in self.values.get("label", ()))


def _match(pattern: str, value: str) -> bool:
    if pattern == value:
        return True
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


def _has_label(network: Network, value: str) -> bool:
    key, sep, wanted = value.partition("=")
    return key in network.labels and (not sep or network.labels[key] == wanted)


def parse_network_filters(raw: Sequence[str]) -> NetworkFilter:
    """`--filter` arguments as given.

    Raises:
        UsageError: no `=` (the docker CLI refuses it, exit 125).
        InvalidOptionError: an unknown key (dockerd refuses it).
    """
    values: dict[str, list[str]] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f'invalid argument "{item}" for "-f, --filter" flag: bad format '
                             "of filter (expected name=value)")
        key, value = key.strip().lower(), value.strip()
        if key not in _KEYS:
            raise InvalidOptionError(f"Invalid filter '{key}'")
        if value not in values.setdefault(key, []):
            values[key].append(value)
    return NetworkFilter({key: tuple(found) for key, found in values.items()})
