"""`berth volume ls [-q] [-f KEY=VALUE] [--format]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.templating import render_rows

COLUMNS = [("DRIVER", "Driver"), ("VOLUME NAME", "Name"), ("SCOPE", "Scope"),
           ("MOUNTPOINT", "Mountpoint"), ("LABELS", "Labels"), ("LINKS", "Links"),
           ("SIZE", "Size")]
TABLE_FORMAT = "table {{.Driver}}\t{{.Name}}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `volume ls` flags."""
    parser.add_argument("-q", "--quiet", action="store_true", help="only display volume names")
    parser.add_argument("--format", help="a Go-style template")
    parser.add_argument("-f", "--filter", action="append", default=[],
                        help="filter output based on conditions provided")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """List volumes."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.volume_ls import parse_volume_filters, volume_ls
    try:
        filters = parse_volume_filters(args.filter)
        with open_context(ctx) as c:
            rows = volume_ls(c, filters)
    except ContainerError as exc:
        return fail(ctx, exc)
    if args.quiet and args.format in (None, "", "table"):  # a template wins over -q
        ctx.stdout.write("".join(f"{r['Name']}\n" for r in rows))
    else:
        fmt = args.format if args.format and args.format != "table" else TABLE_FORMAT
        ctx.stdout.write(render_rows(fmt, rows, {key: title for title, key in COLUMNS},
                                     "*formatter.volumeContext"))
    return 0
