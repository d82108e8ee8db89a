"""`berth network ls [-q] [--no-trunc] [-f KEY=VALUE] [--format]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import open_context
from runtime_client.templating import render_rows

COLUMNS = [("NETWORK ID", "ID"), ("NAME", "Name"), ("DRIVER", "Driver"), ("SCOPE", "Scope")]
TABLE_FORMAT = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network ls` flags."""
    parser.add_argument("-q", "--quiet", action="store_true", help="only display IDs")
    parser.add_argument("--format", help="a Go-style template")
    parser.add_argument("--no-trunc", action="store_true", help="do not truncate the output")
    parser.add_argument("-f", "--filter", action="append", default=[],
                        help="filter output based on conditions provided")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """List networks."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_filters import parse_network_filters
    from runtime_client.ops.network_ls import network_ls
    filters = parse_network_filters(args.filter)
    with open_context(ctx) as c:
        rows = network_ls(c, filters, args.no_trunc)
    if args.quiet and args.format in (None, "", "table"):  # a template wins over -q
        ctx.stdout.write("".join(f"{r['ID']}\n" for r in rows))
    else:
        # The docker CLI's default is this template, laid out by its tabwriter (cells at
        # least 10 wide).
        fmt = args.format if args.format and args.format != "table" else TABLE_FORMAT
        ctx.stdout.write(render_rows(fmt, rows, {key: title for title, key in COLUMNS},
                                     "*formatter.networkContext"))
    return 0
