"""`berth image save` / `berth save`."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from runtime_client.cli.base import CliContext, stores_of
from runtime_client.errors import UsageError
from runtime_client.options import SaveOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `image save` flags."""
    parser.add_argument("names", nargs="+", metavar="IMAGE")
    parser.add_argument("-o", "--output", help="write to a file, instead of STDOUT")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Save images to a tar archive."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.save import save
    opts = SaveOptions(tuple(args.names), args.output)
    with stores_of(ctx) as stores:
        if opts.output is None:
            if ctx.stdout.isatty():
                raise UsageError("cowardly refusing to save to a terminal. Use the -o flag "
                                 "or redirect")
            ctx.stdout.flush()
            save(stores, opts, ctx.stdout_binary)
            ctx.stdout_binary.flush()
            return 0
        target = Path(opts.output)
        # Write beside the target and rename, so a failed save leaves no partial archive.
        fd, tmp = tempfile.mkstemp(dir=target.parent or Path("."), prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as out:
                save(stores, opts, out)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return 0
