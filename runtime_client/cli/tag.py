"""`berth image tag` / `berth tag`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, stores_of
from runtime_client.options import TagOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image tag` arguments."""
    parser.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    parser.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Tag an image."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.tag import tag
    with stores_of(ctx) as stores:
        tag(stores, TagOptions(args.source, args.target))
    return 0
