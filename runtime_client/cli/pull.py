"""`berth image pull` / `berth pull`."""

from __future__ import annotations

import argparse
import asyncio

from runtime_client.cli.base import (
    CliContext,
    add_content_trust_flag,
    add_verify_flags,
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
    add_verify_flags(parser)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Pull an image."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.pull import pull
    from runtime_client.signature_policy import resolve_verification
    verification = resolve_verification(
        ctx.config, ctx.env, args.verify, args.policy,
        content_trust_enabled(ctx.env, args.disable_content_trust))
    opts = PullOptions(args.name, args.all_tags, args.platform, args.quiet,
                       verification.content_trust, verification.policy)
    with stores_of(ctx) as stores:
        asyncio.run(pull(stores, ctx.config, opts, ctx.stdout, progress_for(ctx, opts.quiet),
                         ctx.env))
    return 0
