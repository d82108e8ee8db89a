"""`berth search`."""

from __future__ import annotations

import argparse
import asyncio

from runtime_client.cli.base import CliContext
from runtime_client.options import SearchOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `search` flags."""
    parser.add_argument("term", metavar="TERM")
    parser.add_argument("--limit", type=int, default=25, help="max number of results")
    parser.add_argument("-f", "--filter", action="append", default=[],
                        help="filter output: is-official=true, stars=N")
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument("--format", help="'table', 'json' or a Go-style template")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Search a registry for images."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.search import search
    opts = SearchOptions(args.term, args.limit, tuple(args.filter), args.no_trunc, args.format)
    asyncio.run(search(ctx.config, opts, ctx.stdout))
    return 0
