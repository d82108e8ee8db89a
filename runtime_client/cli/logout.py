"""`berth logout`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.options import LogoutOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `logout` arguments."""
    parser.add_argument("server", nargs="?", metavar="SERVER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Log out from a registry."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.logout import logout
    logout(ctx.config, LogoutOptions(args.server), ctx.stdout)
    return 0
