"""`berth network connect [--ip IP] [--alias NAME] NETWORK CONTAINER`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network connect` flags."""
    parser.add_argument("--ip", default="", help="IPv4 address")
    parser.add_argument("--alias", action="append", default=[], help="network-scoped alias")
    parser.add_argument("network", metavar="NETWORK")
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Connect a container to a network."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_connect import NetworkConnectOptions, network_connect
    opts = NetworkConnectOptions(args.network, args.container, args.ip, tuple(args.alias))
    try:
        with open_context(ctx) as c:
            network_connect(c, opts)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
