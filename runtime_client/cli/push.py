"""`berth image push` / `berth push`."""

from __future__ import annotations

import argparse
import asyncio

from runtime_client.cli.base import (
    CliContext,
    add_content_trust_flag,
    progress_for,
    stores_of,
)
from runtime_client.config import content_trust_enabled
from runtime_client.options import PushOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image push` flags."""
    parser.add_argument("name", metavar="NAME[:TAG]")
    parser.add_argument("-a", "--all-tags", action="store_true",
                        help="push all tags of the repository")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    add_content_trust_flag(parser)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Push an image."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.push import push
    opts = PushOptions(args.name, args.all_tags, args.quiet,
                       content_trust_enabled(ctx.env, args.disable_content_trust))
    with stores_of(ctx) as stores:
        asyncio.run(push(stores, ctx.config, opts, ctx.stdout, progress_for(ctx, opts.quiet),
                         ctx.env))
    return 0
