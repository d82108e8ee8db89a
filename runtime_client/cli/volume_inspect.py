"""`berth volume inspect [-f FORMAT] VOLUME...`."""

from __future__ import annotations

import argparse
import json

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.templating import render_documents


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `volume inspect` flags."""
    parser.add_argument("-f", "--format", help="a Go-style template")
    parser.add_argument("volumes", nargs="+", metavar="VOLUME")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print dockerd's volume JSON (or the template) for each volume."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.volume_inspect import volume_inspect
    found = []
    status = 0
    with open_context(ctx) as c:
        for name in args.volumes:
            try:
                found.append(volume_inspect(c, name))
            except ContainerError as exc:
                status = fail(ctx, exc)
    if args.format:
        ctx.stdout.write(render_documents(args.format, found))
    else:
        ctx.stdout.write(json.dumps(found, indent=4) + "\n")
    return status
