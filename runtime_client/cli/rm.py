"""`berth container rm [-f] [-v]` / `berth rm`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import each, open_context


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `rm` flags."""
    parser.add_argument("-f", "--force", action="store_true",
                        help="force the removal of a running container (uses SIGKILL)")
    parser.add_argument("-v", "--volumes", action="store_true",
                        help="remove the anonymous volumes associated with the container")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Remove containers."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.errors import NoSuchContainerError
    from runtime_client.ops.rm import RmOptions, rm
    opts = RmOptions(tuple(args.containers), args.force, args.volumes)
    with open_context(ctx) as c:
        return each(ctx, list(opts.containers), lambda ref: rm(c, ref, opts.force, opts.volumes),
                    tolerated=(NoSuchContainerError,) if opts.force else ())
