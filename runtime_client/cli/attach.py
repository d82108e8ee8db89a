"""`berth container attach` / `berth attach [--no-stdin] [--detach-keys KEYS] [--sig-proxy]
CONTAINER`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, add_attach_flags
from runtime_client.cli.containers_common import detach_keys, fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `attach` flags."""
    parser.add_argument("--no-stdin", action="store_true", help="do not attach STDIN")
    add_attach_flags(parser)
    parser.add_argument("container", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Attach to a running container and exit with its status; leaving it with the detach
    keys prints Docker's `read escape sequence` and exits 1, as the docker CLI does."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.attach import attach
    ctx.stdout.flush()
    try:
        keys = detach_keys(ctx, args.detach_keys)
        with open_context(ctx) as c:
            code = attach(c, args.container, ctx.stdin, ctx.stdout_binary,
                          getattr(ctx.stderr, "buffer", None), args.no_stdin, keys,
                          args.sig_proxy)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc)
    if code is None:
        ctx.stderr.write("read escape sequence\n")
        return 1
    return code
