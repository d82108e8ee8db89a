"""`berth image pull` / `berth pull`."""

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
from runtime_client.options import PullOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image pull` flags."""
    parser.add_argument("name", metavar="NAME[:TAG|@DIGEST]")
    parser.add_argument("-a", "--all-tags", action="store_true",
                        help="download all tagged images in the repository")
    parser.add_argument("--platform", help="os/arch[/variant] to select from an index")
    parser.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    add_content_trust_flag(parser)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Pull an image."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.pull import pull
    opts = PullOptions(args.name, args.all_tags, args.platform, args.quiet,
                       content_trust_enabled(ctx.env, args.disable_content_trust))
    with stores_of(ctx) as stores:
        asyncio.run(pull(stores, ctx.config, opts, ctx.stdout, progress_for(ctx, opts.quiet),
                         ctx.env))
    return 0
