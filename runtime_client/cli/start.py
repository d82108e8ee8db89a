"""`berth container start [-a] [-i] [--detach-keys KEYS]` / `berth start`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, add_attach_flags
from runtime_client.cli.containers_common import detach_keys, each, fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `start` flags."""
    parser.add_argument("-a", "--attach", action="store_true", help="attach STDOUT/STDERR")
    parser.add_argument("-i", "--interactive", action="store_true", help="attach STDIN")
    add_attach_flags(parser, sig_proxy=False)
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Start containers (attached to the first one with -a; `--detach-keys` is only
    checked then, as by Docker)."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.start import StartOptions, start, start_attached
    opts = StartOptions(tuple(args.containers), args.attach, args.interactive)
    with open_context(ctx) as c:
        if opts.attach or opts.interactive:
            try:
                code = start_attached(
                    c, opts.containers[0], opts.interactive, ctx.stdin, ctx.stdout_binary,
                    getattr(ctx.stderr, "buffer", None), detach_keys(ctx, args.detach_keys))
            except (ContainerError, RuntimeClientError) as exc:
                return fail(ctx, exc)
            return 0 if code is None else code  # detached: silent, as the docker CLI
        return each(ctx, list(opts.containers), lambda ref: start(c, ref))
