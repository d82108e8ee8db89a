"""`berth image rm` / `berth rmi`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, images_in_use, stores_of
from runtime_client.options import RmiOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image rm` flags."""
    parser.add_argument("names", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--force", action="store_true", help="force removal")
    parser.add_argument("--no-prune", action="store_true", help="accepted for compatibility")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove images."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.rmi import rmi
    with stores_of(ctx) as stores:
        rmi(stores, RmiOptions(tuple(args.names), args.force), ctx.stdout, images_in_use(ctx))
    return 0
