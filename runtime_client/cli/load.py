"""`berth image load` / `berth load`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, stores_of
from runtime_client.options import LoadOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image load` flags."""
    parser.add_argument("-i", "--input", help="read from a tar archive file, instead of STDIN")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress the load output")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Load images from a tar archive."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.load import load
    with stores_of(ctx) as stores:
        load(stores, LoadOptions(args.input, args.quiet), ctx.stdin, ctx.stdout)
    return 0
