"""`berth trust revoke`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.options import TrustRevokeOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `trust revoke` flags."""
    parser.add_argument("name", metavar="IMAGE[:TAG]")
    parser.add_argument("-y", "--yes", action="store_true", help="do not prompt")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove signatures."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.trust_revoke import trust_revoke
    trust_revoke(ctx.config, TrustRevokeOptions(args.name), ctx.stdout, ctx.env)
    return 0
