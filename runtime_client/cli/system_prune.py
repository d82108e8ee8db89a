"""`berth system prune [-a] [--volumes] [-f] [--filter ...]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.confirm import confirmed
from runtime_client.cli.containers_common import open_context
from runtime_client.humanize import human_size


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `system prune` flags."""
    parser.add_argument("-a", "--all", action="store_true", help="remove all unused images")
    parser.add_argument("--volumes", action="store_true", help="prune unused volumes")
    parser.add_argument("-f", "--force", action="store_true", help="do not prompt")
    parser.add_argument("--filter", action="append", default=[],
                        help="provide filter values (e.g. 'label=<key>=<value>')")


def _warning(all_images: bool, volumes: bool, filters: dict[str, tuple[str, ...]]) -> str:
    """The docker CLI's list (berth has no build cache: its line is kept for the same text),
    and the `label`, `label!` and `until` filters in natural order."""
    items = ["all stopped containers", "all networks not used by at least one container"]
    if volumes:
        items.append("all anonymous volumes not used by at least one container")
    if all_images:
        items += ["all images without at least one container associated to them",
                  "all build cache"]
    else:
        items += ["all dangling images", "unused build cache"]
    text = "WARNING! This will remove:\n" + "".join(f"  - {i}\n" for i in items)
    shown = sorted(f"{key}={value}" for key in ("label", "label!", "until")
                   for value in filters.get(key, ()))
    if shown:
        text += "\n  Items to be pruned will be filtered with:\n" + "".join(
            f"  - {item}\n" for item in shown)
    return text


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove stopped containers, unused networks, images and (optionally) volumes."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.prune_filters import parse_prune_filters
    from runtime_client.ops.system_prune import SystemPruneOptions, system_prune
    filters = parse_prune_filters(args.filter)
    if args.volumes and "until" in filters.values:
        ctx.stderr.write('ERROR: The "until" filter is not supported with "--volumes"\n')
        return 1
    if not args.force and not confirmed(ctx, _warning(args.all, args.volumes,
                                                      dict(filters.values))):
        return 0
    with open_context(ctx) as c:
        result = system_prune(c, SystemPruneOptions(args.all, args.volumes, filters))
    for title, items in (("Deleted Containers", result.containers),
                         ("Deleted Networks", result.networks),
                         ("Deleted Images", [f"deleted: {i}" for i in result.images]),
                         ("Deleted Volumes", result.volumes)):
        if items:
            ctx.stdout.write(f"{title}:\n" + "".join(f"{i}\n" for i in items) + "\n")
    if result.build_cache_error:
        ctx.stderr.write(f"Error response from daemon: {result.build_cache_error}\n")
        return 1
    ctx.stdout.write(f"Total reclaimed space: {human_size(result.reclaimed)}\n")
    return 0
