"""`berth network rm NETWORK...`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import each, open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network rm` arguments."""
    parser.add_argument("networks", nargs="+", metavar="NETWORK")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove networks (refused while containers use them)."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_rm import network_rm
    with open_context(ctx) as c:
        return each(ctx, args.networks, lambda ref: network_rm(c, ref))
