"""`berth network ls [-q] [--format]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import open_context
from runtime_client.tables import write_table
from runtime_client.templating import render_rows

COLUMNS = [("NETWORK ID", "ID"), ("NAME", "Name"), ("DRIVER", "Driver"), ("SCOPE", "Scope")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network ls` flags."""
    parser.add_argument("-q", "--quiet", action="store_true", help="only display IDs")
    parser.add_argument("--format", help="a Go-style template")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """List networks."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_ls import network_ls
    with open_context(ctx) as c:
        rows = network_ls(c)
    if args.quiet:
        ctx.stdout.write("".join(f"{r['ID']}\n" for r in rows))
    elif args.format and args.format != "table":
        ctx.stdout.write(render_rows(args.format, rows, {key: title for title, key in COLUMNS},
                                     "*formatter.networkContext"))
    else:
        write_table(ctx.stdout, COLUMNS, rows)
    return 0
