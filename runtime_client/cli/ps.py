"""`berth container ls` / `berth ps [-a] [-q] [--format]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import open_context
from runtime_client.tables import write_table
from runtime_client.templating import render_rows

COLUMNS = [("CONTAINER ID", "ID"), ("IMAGE", "Image"), ("COMMAND", "Command"),
           ("CREATED", "RunningFor"), ("STATUS", "Status"), ("PORTS", "Ports"),
           ("NAMES", "Names")]
HEADERS = {key: title for title, key in COLUMNS} | {
    "State": "STATE", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS",
    "Networks": "NETWORKS", "CreatedAt": "CREATED AT", "LocalVolumes": "LOCAL VOLUMES"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `ps` flags."""
    parser.add_argument("-a", "--all", action="store_true", help="show all containers")
    parser.add_argument("-q", "--quiet", action="store_true", help="only display IDs")
    parser.add_argument("--format", help="'table' or a Go-style template")
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """List containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.ps import PsOptions, ps
    opts = PsOptions(args.all, args.quiet, args.format, args.no_trunc)
    with open_context(ctx) as c:
        rows = ps(c, opts)
    if opts.quiet:
        ctx.stdout.write("".join(f"{r['ID']}\n" for r in rows))
    elif opts.format and opts.format != "table":
        ctx.stdout.write(render_rows(opts.format, rows, HEADERS, "*formatter.ContainerContext"))
    else:
        write_table(ctx.stdout, COLUMNS, rows)
    return 0
