"""`berth container stats` / `berth stats [--no-stream] [CONTAINER...]`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError
from runtime_client.humanize import binary_size, human_size
from runtime_client.tables import write_table
from runtime_client.templating import render

if TYPE_CHECKING:
    from runtime_client.ops.stats import StatsRow

COLUMNS = [("CONTAINER ID", "ID"), ("NAME", "Name"), ("CPU %", "CPUPerc"),
           ("MEM USAGE / LIMIT", "MemUsage"), ("MEM %", "MemPerc"), ("NET I/O", "NetIO"),
           ("BLOCK I/O", "BlockIO"), ("PIDS", "PIDs")]


def as_dict(row: StatsRow) -> dict[str, str]:
    """A row with Docker's `--format` field names."""
    return {
        "ID": row.container_id[:12], "Container": row.container_id[:12], "Name": row.name,
        "CPUPerc": f"{row.cpu_percent:.2f}%",
        "MemUsage": f"{binary_size(row.memory_usage)} / {binary_size(row.memory_limit)}",
        "MemPerc": f"{row.memory_percent:.2f}%",
        "NetIO": f"{human_size(row.net_rx)} / {human_size(row.net_tx)}",
        "BlockIO": f"{human_size(row.block_read)} / {human_size(row.block_write)}",
        "PIDs": str(row.pids),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `stats` flags."""
    parser.add_argument("--no-stream", action="store_true",
                        help="disable streaming stats and only pull the first result")
    parser.add_argument("--format", help="a Go-style template")
    parser.add_argument("containers", nargs="*", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Show resource usage (once with --no-stream, else every second until interrupted)."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.stats import stats
    try:
        with open_context(ctx) as c:
            while True:
                rows = [as_dict(r) for r in stats(c, tuple(args.containers))]
                if not args.no_stream:
                    ctx.stdout.write("\x1b[2J\x1b[H")
                if args.format:
                    ctx.stdout.write("".join(render(args.format, r) + "\n" for r in rows))
                else:
                    write_table(ctx.stdout, COLUMNS, rows)
                ctx.stdout.flush()
                if args.no_stream:
                    return 0
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
