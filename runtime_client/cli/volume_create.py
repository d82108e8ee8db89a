"""`berth volume create [--name NAME | NAME] [--label k=v] [-d local] [-o KEY=VALUE]`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.cli.containers_common import fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `volume create` flags."""
    parser.add_argument("-d", "--driver", default="local", help="volume driver (local)")
    parser.add_argument("--name", default="", help="the volume's name")
    parser.add_argument("--label", action="append", default=[], help="set metadata")
    parser.add_argument("-o", "--opt", action="append", default=[],
                        help="local driver options: type=, device=, o=")
    parser.add_argument("volume", nargs="?", default="", metavar="VOLUME")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Create a volume and print its name."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.volume_create import VolumeCreateOptions, volume_create
    if args.name and args.volume and args.name != args.volume:
        raise UsageError("conflicting options: cannot specify a volume-name through both "
                         "--name and as a positional arg")
    opts = VolumeCreateOptions(args.volume or args.name, args.driver, tuple(args.label),
                               tuple(args.opt))
    try:
        with open_context(ctx) as c:
            volume = volume_create(c, opts)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    ctx.stdout.write(volume.name + "\n")
    return 0
