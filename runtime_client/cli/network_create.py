"""`berth network create [--driver bridge] [--subnet] [--gateway] [--internal] NAME`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network create` flags."""
    parser.add_argument("-d", "--driver", default="bridge", help="driver (bridge)")
    parser.add_argument("--subnet", default=None, help="subnet in CIDR format")
    parser.add_argument("--gateway", default=None, help="IPv4 gateway of the subnet")
    parser.add_argument("--internal", action="store_true", help="restrict external access")
    parser.add_argument("--label", action="append", default=[], help="set metadata")
    parser.add_argument("name", metavar="NETWORK")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Create a network and print its ID."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_create import NetworkCreateOptions, network_create
    opts = NetworkCreateOptions(args.name, args.driver, args.subnet, args.gateway,
                                args.internal, tuple(args.label))
    try:
        with open_context(ctx) as c:
            network = network_create(c, opts)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    ctx.stdout.write(network.id + "\n")
    return 0
