"""`berth container inspect [-f FORMAT] CONTAINER...` (also `berth inspect` for containers)."""

from __future__ import annotations

import argparse
import json

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError
from runtime_client.ops.inspect import inspect
from runtime_client.templating import render


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `inspect` flags."""
    parser.add_argument("-f", "--format", help="a Go-style template")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print Docker's inspect JSON (or the template) for each container."""
    found = []
    status = 0
    with open_context(ctx) as c:
        for ref in args.containers:
            try:
                found.append(inspect(c, ref))
            except (ContainerError, RuntimeClientError):
                ctx.stderr.write(f"Error: No such object: {ref}\n")
                status = 1
    if args.format:
        ctx.stdout.write("".join(render(args.format, item) + "\n" for item in found))
    else:
        ctx.stdout.write(json.dumps(found, indent=4) + "\n")
    return status
