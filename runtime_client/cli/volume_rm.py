"""`berth volume rm [-f] VOLUME...`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import each, open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `volume rm` flags."""
    parser.add_argument("-f", "--force", action="store_true",
                        help="no error for a volume that does not exist")
    parser.add_argument("volumes", nargs="+", metavar="VOLUME")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove volumes (refused while a container uses one)."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.volume_rm import volume_rm
    with open_context(ctx) as c:
        return each(ctx, args.volumes, lambda name: volume_rm(c, name, args.force))
