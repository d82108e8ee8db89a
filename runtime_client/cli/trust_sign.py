"""`berth trust sign IMAGE:TAG`: push the local image and sign the tag."""

from __future__ import annotations

import argparse
import asyncio

from runtime_client.cli.base import CliContext, progress_for, stores_of
from runtime_client.options import PushOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `trust sign` arguments."""
    parser.add_argument("name", metavar="IMAGE:TAG")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Sign an image tag (pushing it first, as Docker does)."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.push import push
    opts = PushOptions(args.name, content_trust=True)
    with stores_of(ctx) as stores:
        asyncio.run(push(stores, ctx.config, opts, ctx.stdout, progress_for(ctx), ctx.env))
    return 0
