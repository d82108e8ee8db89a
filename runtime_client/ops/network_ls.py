"""`berth network ls`."""

from __future__ import annotations

from typing import Any

from runtime_client.ops.context import Context


def network_ls(ctx: Context) -> list[dict[str, Any]]:
    """Rows with Docker's `--format` names: ID, Name, Driver, Scope."""
    return [{"ID": n.id[:12], "Name": n.name, "Driver": n.driver, "Scope": "local",
             "Internal": n.internal, "Labels": n.labels} for n in ctx.networks.list()]
