"""`berth network disconnect NETWORK CONTAINER`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network disconnect` arguments."""
    parser.add_argument("-f", "--force", action="store_true", help="accepted for compatibility")
    parser.add_argument("network", metavar="NETWORK")
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Disconnect a container from a network."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_disconnect import network_disconnect
    try:
        with open_context(ctx) as c:
            network_disconnect(c, args.network, args.container)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
