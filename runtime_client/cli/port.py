"""`berth container port` / `berth port CONTAINER [PRIVATE_PORT[/PROTO]]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `port` arguments."""
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("private", nargs="?", metavar="PRIVATE_PORT[/PROTO]")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """List port mappings."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.port import port
    try:
        with open_context(ctx) as c:
            lines = port(c, args.container, args.private)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    ctx.stdout.write("".join(f"{line}\n" for line in lines))
    return 0
