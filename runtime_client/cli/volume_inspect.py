"""`berth volume inspect [-f FORMAT] VOLUME...`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import inspect_each


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `volume inspect` flags."""
    parser.add_argument("-f", "--format", help="a Go-style template")
    parser.add_argument("volumes", nargs="+", metavar="VOLUME")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print dockerd's volume JSON (or the template) for each volume."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.volume_inspect import volume_inspect
    return inspect_each(ctx, args.volumes, args.format, volume_inspect)
