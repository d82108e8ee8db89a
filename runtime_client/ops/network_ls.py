"""`berth network ls`."""

from __future__ import annotations

import re
from typing import Any

from runtime_client.ops.context import Context
from runtime_client.ops.network_filters import NetworkFilter


def network_ls(ctx: Context, filters: NetworkFilter | None = None,
               no_trunc: bool = False) -> list[dict[str, Any]]:
    """Rows with Docker's `--format` names: ID, Name, Driver, Scope, ...

    Raises:
        InvalidOptionError: a filter value dockerd refuses.
    """
    networks = ctx.networks.list()
    if filters:
        # dockerd 20.10 builds its network list without the containers on each network
        # (only API versions before 1.28 ask for them), so its `dangling` filter sees every
        # network as unused: `dangling=true` lists the user-defined networks, running
        # containers or not, and `dangling=false` the built-in ones.
        networks = filters.apply(networks, lambda _network: False)
    # The docker CLI lists networks by name in natural order (`net2` before `net10`).
    networks = sorted(networks, key=lambda n: _natural(n.name))
    return [{"ID": n.id if no_trunc else n.id[:12], "Name": n.name, "Driver": n.driver,
             "Scope": "local", "Internal": n.internal, "Labels": n.labels} for n in networks]


def _natural(name: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
