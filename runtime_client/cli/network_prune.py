"""`berth network prune [-f] [--filter ...]`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from runtime_client.cli.base import CliContext
from runtime_client.cli.confirm import confirmed
from runtime_client.cli.containers_common import open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `network prune` flags."""
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt")
    parser.add_argument("--filter", action="append", default=[],
                        help="provide filter values (e.g. 'until=<timestamp>')")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove unused user-defined networks."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.network_prune import network_prune
    from runtime_client.ops.prune_filters import NETWORK_KEYS, parse_prune_filters
    filters = parse_prune_filters(args.filter)
    if not args.force and not confirmed(
            ctx, "WARNING! This will remove all custom networks not used by at least one "
            "container."):
        return 0
    with open_context(ctx) as c:
        removed = network_prune(c, filters.validated(NETWORK_KEYS, datetime.now(UTC)))
    if removed:
        ctx.stdout.write("Deleted Networks:\n" + "".join(f"{n}\n" for n in removed))
    return 0
