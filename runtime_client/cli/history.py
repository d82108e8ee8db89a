"""`berth image history` / `berth history`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, stores_of
from runtime_client.options import HistoryOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image history` flags."""
    parser.add_argument("name", metavar="IMAGE")
    parser.add_argument("--format", help="'table', 'json' or a Go-style template")
    # A Go boolean flag: `-H=false` / `--human=false`, never a separate value.
    parser.add_argument("-H", "--human", "-H=true", "--human=true", dest="human",
                        action="store_const", const=True, default=True,
                        help="print sizes and dates in human readable format (default true)")
    parser.add_argument("-H=false", "--human=false", dest="human", action="store_const",
                        const=False, help=argparse.SUPPRESS)
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Show an image's history."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.history import history
    opts = HistoryOptions(args.name, args.quiet, args.human, args.no_trunc, args.format)
    with stores_of(ctx) as stores:
        history(stores, opts, ctx.stdout)
    return 0
