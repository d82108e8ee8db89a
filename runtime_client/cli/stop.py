"""`berth container stop [-t SECONDS]` / `berth stop`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import each, open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `stop` flags."""
    parser.add_argument("-t", "--time", "--timeout", type=int, default=None, dest="timeout",
                        help="seconds to wait before killing the container (default 10)")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Stop containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.stop import stop
    with open_context(ctx) as c:
        return each(ctx, args.containers, lambda ref: stop(c, ref, args.timeout),
                    parallel=True)
