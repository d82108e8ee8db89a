"""`berth container cleanup ID`: run by conmon when a container exits (not for users)."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `cleanup` arguments."""
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Record the exit and apply --rm / --restart."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.cleanup import cleanup
    try:
        with open_context(ctx) as c:
            cleanup(c, args.container)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
