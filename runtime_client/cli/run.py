"""`berth container run` / `berth run`."""

from __future__ import annotations

import argparse

from runtime_client.cli import create as create_cli
from runtime_client.cli.base import CliContext, add_attach_flags
from runtime_client.cli.containers_common import (
    detach_keys,
    fail,
    open_context,
    with_pull,
)
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the flags of `run`: those of `create` plus -d, --detach-keys, --sig-proxy."""
    parser.add_argument("-d", "--detach", action="store_true",
                        help="run container in background and print container ID")
    add_attach_flags(parser)
    create_cli.add_arguments(parser)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Run a container: print its ID with -d, else its output, and exit with its status (0,
    silently, when the user detached, as the docker CLI does)."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.run import run as run_container
    opts = create_cli.options_from(args, detach=args.detach)
    ctx.stdout.flush()
    try:
        # Checked before anything is made (dockerd 20.10 leaves a Created container behind).
        keys = detach_keys(ctx, args.detach_keys)
    except ContainerError as exc:
        return fail(ctx, exc)
    try:
        verification = create_cli.verification_of(args, ctx)
        with open_context(ctx) as c:
            result = with_pull(ctx, opts.image, lambda: run_container(
                c, opts, ctx.stdin, ctx.stdout_binary, getattr(ctx.stderr, "buffer", None),
                keys, args.sig_proxy), verification)
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc, "run")
    if result.detached:
        return 0
    if result.exit_code is None:
        ctx.stdout.write(result.container_id + "\n")
        return 0
    return result.exit_code
