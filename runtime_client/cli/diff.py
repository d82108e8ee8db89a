"""`berth container diff` / `berth diff CONTAINER`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `diff` arguments."""
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print added (A), changed (C) and deleted (D) paths."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.diff import diff
    try:
        with open_context(ctx) as c:
            lines = diff(c, args.container)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    ctx.stdout.write("".join(f"{line}\n" for line in lines))
    return 0
