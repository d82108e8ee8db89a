"""`berth image ls` / `berth images`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, stores_of
from runtime_client.options import ImagesOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image ls` flags."""
    parser.add_argument("repository", nargs="?", help="REPOSITORY[:TAG] to list")
    parser.add_argument("-a", "--all", action="store_true", help="show all images")
    parser.add_argument("--digests", action="store_true", help="show digests")
    parser.add_argument("-q", "--quiet", action="store_true", help="only show image IDs")
    parser.add_argument("--format", help="'table', 'json' or a Go-style template")
    parser.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    parser.add_argument("-f", "--filter", action="append", default=[],
                        help="filter output based on conditions provided")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """List images."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.image_filters import parse_image_filters
    from runtime_client.ops.images import images
    opts = ImagesOptions(args.repository, args.all, args.digests, args.quiet, args.format,
                         args.no_trunc, parse_image_filters(args.filter))
    with stores_of(ctx) as stores:
        images(stores, opts, ctx.stdout)
    return 0
