"""`berth container kill [-s SIGNAL]` / `berth kill`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import each, open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `kill` flags."""
    parser.add_argument("-s", "--signal", default="KILL", help="signal to send")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Signal containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.kill import kill
    with open_context(ctx) as c:
        return each(ctx, args.containers, lambda ref: kill(c, ref, args.signal))
