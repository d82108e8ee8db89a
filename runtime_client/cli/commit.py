"""`berth container commit` / `berth commit [-a] [-m] [-c] CONTAINER [REPO[:TAG]]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `commit` flags."""
    parser.add_argument("-a", "--author", default="", help="author")
    parser.add_argument("-m", "--message", default="", help="commit message")
    parser.add_argument("-c", "--change", action="append", default=[],
                        help="apply a Dockerfile instruction to the created image")
    parser.add_argument("-p", "--pause", default="true", choices=("true", "false"),
                        help="pause the container during commit (default true)")
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Create an image from a container's changes and print its ID."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.commit import CommitOptions, commit
    opts = CommitOptions(args.container, args.reference, args.author, args.message,
                         tuple(args.change), args.pause == "true")
    try:
        with open_context(ctx) as c:
            image_id = commit(c, opts)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    ctx.stdout.write(image_id + "\n")
    return 0
