"""`berth container export` / `berth export [-o FILE] CONTAINER`."""

from __future__ import annotations

import argparse
import contextlib
import os

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `export` flags."""
    parser.add_argument("-o", "--output", help="write to a file instead of STDOUT")
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Write the container's file system as a tar."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.export import export
    if args.output is None and ctx.stdout.isatty():
        ctx.stderr.write("berth: cowardly refusing to write the tar to a terminal; "
                         "use -o or redirect\n")
        return 1
    ctx.stdout.flush()
    try:
        with open_context(ctx) as c:
            if args.output:
                tmp = f"{args.output}.tmp-{os.getpid()}"
                try:
                    with open(tmp, "wb") as out:
                        export(c, args.container, out)
                    os.replace(tmp, args.output)
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
            else:
                export(c, args.container, ctx.stdout_binary)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    return 0
