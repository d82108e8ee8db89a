"""`berth container rename` / `berth rename OLD NEW`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `rename` arguments."""
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("new_name", metavar="NEW_NAME")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Rename a container."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.rename import rename
    try:
        with open_context(ctx) as c:
            rename(c, args.container, args.new_name)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
