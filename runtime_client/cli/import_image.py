"""`berth image import` / `berth import`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, stores_of
from runtime_client.options import ImportOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image import` flags."""
    parser.add_argument("source", metavar="file|URL|-")
    parser.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")
    parser.add_argument("-c", "--change", action="append", default=[],
                        help="apply a Dockerfile instruction to the created image")
    parser.add_argument("-m", "--message", help="set the commit message for the image")
    parser.add_argument("--platform", help="set the platform (os/arch[/variant])")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Import a root filesystem tar as an image."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.import_image import import_image
    opts = ImportOptions(args.source, args.reference, tuple(args.change), args.message,
                         args.platform)
    with stores_of(ctx) as stores:
        import_image(stores, opts, ctx.stdin, ctx.stdout)
    return 0
