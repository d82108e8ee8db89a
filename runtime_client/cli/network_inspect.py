"""`berth network inspect [-f FORMAT] NETWORK...`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import inspect_each


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network inspect` flags."""
    parser.add_argument("-f", "--format", help="a Go-style template")
    parser.add_argument("networks", nargs="+", metavar="NETWORK")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print Docker's network JSON (or the template) for each network."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_inspect import network_inspect
    return inspect_each(ctx, args.networks, args.format, network_inspect)
