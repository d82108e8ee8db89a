"""`berth ps` / `berth container ls [-a] [-q] [-n N] [-l] [-s] [--filter KEY=VALUE]`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from runtime_client.container_errors import NoSuchContainerError
from runtime_client.errors import RuntimeClientError
from runtime_client.humanize import human_size, parse_time
from runtime_client.ops.context import Context
from runtime_client.ops.ps_filters import ContainerFilter
from runtime_client.ops.views import ps_row
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Container, Status


@dataclass(frozen=True)
class PsOptions:
    """Options of `ps`."""

    all: bool = False
    quiet: bool = False
    format: str | None = None
    no_trunc: bool = False
    last: int = -1  # -n: the N most recently created, in every state (-1: not given)
    filters: ContainerFilter = field(default_factory=lambda: ContainerFilter({}))
    size: bool = False  # -s: the writable layer's bytes and, with its layers, the virtual size


def size_text(ctx: Context, container: Container) -> str:
    """Docker's SIZE: `<writable layer> (virtual <it and every layer below, unpacked>)`."""
    if not ctx.snapshots.exists(container.id):
        return "0B (virtual 0B)"
    rw = ctx.snapshots.usage(container.id)
    virtual, parent = rw, ctx.snapshots.stat(container.id).parent
    while parent:
        virtual += ctx.snapshots.usage(parent)
        parent = ctx.snapshots.stat(parent).parent
    return f"{human_size(rw)} (virtual {human_size(virtual)})"


def ps(ctx: Context, opts: PsOptions) -> list[dict[str, Any]]:
    """Rows for `ps`, newest first (only running containers without -a, -n or a filter
    that asks for stopped ones).

    Raises:
        NoSuchContainerError: a `before`/`since` filter names no container.
    """
    now = datetime.now(UTC)
    every_state = opts.all or opts.last != -1 or opts.filters.shows_stopped()

    def created_of(ref: str) -> datetime:
        return parse_time(ctx.containers.find(ref).created) or now

    def image_id(ref: str) -> str | None:
        try:
            return ctx.images.resolve(ref).id
        except RuntimeClientError:
            return None

    rows = []
    for container in sorted(ctx.containers.list(), key=lambda c: parse_time(c.created) or now,
                            reverse=True):
        if 0 < opts.last <= len(rows):  # dockerd: a limit of 0 is none
            break
        try:
            container = lifecycle.refresh(ctx, container)
        except NoSuchContainerError:
            continue  # removed meanwhile (an --rm container's cleanup)
        if not every_state and container.status not in (Status.RUNNING, Status.PAUSED):
            continue
        if opts.filters and not opts.filters.keeps(container, image_id, created_of):
            continue
        row = ps_row(container, now)
        if opts.size:
            row["Size"] = size_text(ctx, container)
        if opts.no_trunc:
            row["ID"] = container.id
        rows.append(row)
    return rows
