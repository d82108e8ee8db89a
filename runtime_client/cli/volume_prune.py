"""`berth volume prune [-a] [-f] [--filter label=...]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.confirm import confirmed
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.humanize import human_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `volume prune` flags."""
    parser.add_argument("-a", "--all", action="store_true",
                        help="remove all unused volumes, not just anonymous ones")
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt")
    parser.add_argument("--filter", action="append", default=[],
                        help="provide filter values (e.g. 'label=<key>=<value>')")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove unused volumes: anonymous ones, or with -a every one."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from datetime import UTC, datetime

    from runtime_client.ops.prune_filters import VOLUME_KEYS, parse_prune_filters
    from runtime_client.ops.volume_prune import volume_prune
    filters = parse_prune_filters(args.filter)
    warning = ("WARNING! This will remove all local volumes not used by at least one container."
               if args.all else
               "WARNING! This will remove anonymous local volumes not used by at least one "
               "container.")
    if not args.force and not confirmed(ctx, warning):
        return 0
    try:
        with open_context(ctx) as c:
            result = volume_prune(c, filters.validated(VOLUME_KEYS, datetime.now(UTC)),
                                  args.all)
    except ContainerError as exc:
        return fail(ctx, exc)
    if result.removed:
        ctx.stdout.write("Deleted Volumes:\n" + "".join(f"{n}\n" for n in result.removed)
                         + "\n")
    ctx.stdout.write(f"Total reclaimed space: {human_size(result.reclaimed)}\n")
    return 0
