"""`berth container prune [-f] [--filter ...]`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from runtime_client.cli.base import CliContext
from runtime_client.cli.confirm import confirmed
from runtime_client.cli.containers_common import open_context
from runtime_client.humanize import human_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `container prune` flags."""
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt")
    parser.add_argument("--filter", action="append", default=[],
                        help="provide filter values (e.g. 'until=<timestamp>')")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove stopped containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.container_prune import container_prune
    from runtime_client.ops.prune_filters import CONTAINER_KEYS, parse_prune_filters
    filters = parse_prune_filters(args.filter)
    if not args.force and not confirmed(ctx, "WARNING! This will remove all stopped containers."):
        return 0
    with open_context(ctx) as c:
        result = container_prune(c, filters.validated(CONTAINER_KEYS, datetime.now(UTC)))
    if result.removed:
        ctx.stdout.write("Deleted Containers:\n" + "".join(f"{i}\n" for i in result.removed)
                         + "\n")
    ctx.stdout.write(f"Total reclaimed space: {human_size(result.reclaimed)}\n")
    return 0
