"""`berth system df`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import open_context
from runtime_client.humanize import human_size
from runtime_client.tables import write_table

COLUMNS = [("TYPE", "Type"), ("TOTAL", "Total"), ("ACTIVE", "Active"), ("SIZE", "Size"),
           ("RECLAIMABLE", "Reclaimable")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`system df` takes no arguments."""


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Show disk usage by images, containers and volumes."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.system_df import system_df
    with open_context(ctx) as c:
        rows = system_df(c)
    table = []
    for r in rows:
        share = f" ({100 * r.reclaimable // r.size}%)" if r.size and r.type != "Containers" \
            else (" (0%)" if r.type != "Containers" else "")
        table.append({"Type": r.type, "Total": r.total, "Active": r.active,
                      "Size": human_size(r.size), "Reclaimable": human_size(r.reclaimable) + share})
    write_table(ctx.stdout, COLUMNS, table)
    return 0
