"""`berth ps` / `berth container ls [-a] [-q]`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runtime_client.container_errors import NoSuchContainerError
from runtime_client.ops.context import Context
from runtime_client.ops.views import ps_row
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Status


@dataclass(frozen=True)
class PsOptions:
    """Options of `ps`."""

    all: bool = False
    quiet: bool = False
    format: str | None = None
    no_trunc: bool = False


def ps(ctx: Context, opts: PsOptions) -> list[dict[str, Any]]:
    """Rows for `ps`, newest first (only running containers without -a)."""
    now = datetime.now(UTC)
    rows = []
    for container in ctx.containers.list():
        try:
            container = lifecycle.refresh(ctx, container)
        except NoSuchContainerError:
            continue  # removed meanwhile (an --rm container's cleanup)
        if not opts.all and container.status not in (Status.RUNNING, Status.PAUSED):
            continue
        row = ps_row(container, now)
        if opts.no_trunc:
            row["ID"] = container.id
        rows.append(row)
    return rows
