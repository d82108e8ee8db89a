"""`berth image prune`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, images_in_use, stores_of
from runtime_client.cli.confirm import confirmed
from runtime_client.options import ImagePruneOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image prune` flags."""
    parser.add_argument("-a", "--all", action="store_true", help="remove all unused images")
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt")
    parser.add_argument("--filter", action="append", default=[],
                        help="provide filter values (e.g. 'until=<timestamp>')")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Prune images."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.image_prune import image_prune
    from runtime_client.ops.prune_filters import parse_prune_filters
    filters = parse_prune_filters(args.filter)
    what = ("all images without at least one container associated to them" if args.all
            else "all dangling images")
    if not args.force and not confirmed(ctx, f"WARNING! This will remove {what}."):
        return 0
    with stores_of(ctx) as stores:
        image_prune(stores, ImagePruneOptions(args.all, filters), ctx.stdout, images_in_use(ctx))
    return 0
