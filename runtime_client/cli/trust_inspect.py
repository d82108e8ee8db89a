"""`berth trust inspect`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.options import TrustInspectOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `trust inspect` flags."""
    parser.add_argument("names", nargs="+", metavar="IMAGE[:TAG]")
    parser.add_argument("--pretty", action="store_true", help="human friendly output")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Show signatures and keys."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.trust_inspect import trust_inspect
    trust_inspect(ctx.config, TrustInspectOptions(tuple(args.names), args.pretty), ctx.stdout,
                  ctx.env)
    return 0
