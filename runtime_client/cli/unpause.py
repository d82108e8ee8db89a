"""`berth container unpause` / `berth unpause`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import each, open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `unpause` arguments."""
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Thaw containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.pause import unpause
    with open_context(ctx) as c:
        return each(ctx, args.containers, lambda ref: unpause(c, ref))
