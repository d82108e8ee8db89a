"""`berth container ls` / `berth ps [-a] [-q] [-n N] [-l] [-s] [-f KEY=VALUE] [--format]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError
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
    parser.add_argument("-n", "--last", type=int, default=-1,
                        help="show n last created containers (includes all states)")
    parser.add_argument("-l", "--latest", action="store_true",
                        help="show the latest created container (includes all states)")
    parser.add_argument("-s", "--size", action="store_true", help="display total file sizes")
    parser.add_argument("-f", "--filter", action="append", default=[],
                        help="filter output based on conditions provided")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """List containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.ps import PsOptions, ps
    from runtime_client.ops.ps_filters import parse_filters
    try:
        last = 1 if args.latest and args.last == -1 else args.last
        opts = PsOptions(args.all, args.quiet, args.format, args.no_trunc, last,
                         parse_filters(args.filter),
                         # as the docker CLI: a format naming .Size asks for sizes
                         args.size or (not args.quiet and ".Size" in (args.format or "")))
        with open_context(ctx) as c:
            rows = ps(c, opts)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    if opts.quiet:
        ctx.stdout.write("".join(f"{r['ID']}\n" for r in rows))
    elif opts.format and opts.format != "table":
        ctx.stdout.write(render_rows(opts.format, rows, HEADERS, "*formatter.ContainerContext"))
    else:
        write_table(ctx.stdout, [*COLUMNS, ("SIZE", "Size")] if opts.size else COLUMNS, rows)
    return 0
