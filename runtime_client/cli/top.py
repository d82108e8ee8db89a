"""`berth container top CONTAINER [ps OPTIONS]` / `berth top`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `top` arguments."""
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("ps_args", nargs=argparse.REMAINDER, metavar="PS_OPTIONS")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Show the container's processes."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.top import top
    try:
        with open_context(ctx) as c:
            ctx.stdout.write(top(c, args.container, tuple(args.ps_args)))
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
