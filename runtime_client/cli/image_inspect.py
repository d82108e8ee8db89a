"""`berth image inspect`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, stores_of
from runtime_client.options import ImageInspectOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image inspect` flags."""
    parser.add_argument("names", nargs="+", metavar="IMAGE")
    parser.add_argument("-f", "--format", help="Go-style template")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Inspect images."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.image_inspect import image_inspect
    with stores_of(ctx) as stores:
        image_inspect(stores, ImageInspectOptions(tuple(args.names), args.format), ctx.stdout)
    return 0
