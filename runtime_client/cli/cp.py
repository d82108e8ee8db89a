"""`berth container cp` / `berth cp CONTAINER:SRC DEST | SRC CONTAINER:DEST`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `cp` arguments."""
    parser.add_argument("source", metavar="SRC")
    parser.add_argument("destination", metavar="DEST")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Copy files between a container and the host."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.cp import CpOptions, cp
    ctx.stdout.flush()
    try:
        with open_context(ctx) as c:
            cp(c, CpOptions(args.source, args.destination), ctx.stdin, ctx.stdout_binary)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
