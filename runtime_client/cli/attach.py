"""`berth container attach` / `berth attach [--no-stdin] CONTAINER`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `attach` flags."""
    parser.add_argument("--no-stdin", action="store_true", help="do not attach STDIN")
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Attach to a running container and exit with its status."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.attach import attach
    ctx.stdout.flush()
    try:
        with open_context(ctx) as c:
            return attach(c, args.container, ctx.stdin, ctx.stdout_binary,
                          getattr(ctx.stderr, "buffer", None), args.no_stdin)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
