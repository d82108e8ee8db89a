"""`berth container pause` / `berth pause`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import each, open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `pause` arguments."""
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Freeze containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.pause import pause
    with open_context(ctx) as c:
        return each(ctx, args.containers, lambda ref: pause(c, ref))
