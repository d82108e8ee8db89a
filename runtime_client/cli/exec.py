"""`berth container exec` / `berth exec [-i] [-t] [-d] [-e] [-w] [-u] [--privileged] CONTAINER
CMD...`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext, add_attach_flags
from runtime_client.cli.containers_common import detach_keys, fail, open_context
from runtime_client.container_errors import ContainerError
from runtime_client.errors import RuntimeClientError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `exec` flags."""
    parser.add_argument("-i", "--interactive", action="store_true", help="keep STDIN open")
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    parser.add_argument("-d", "--detach", action="store_true", help="run in the background")
    parser.add_argument("-e", "--env", action="append", default=[], help="set variables")
    parser.add_argument("-w", "--workdir", default="", help="working directory inside")
    parser.add_argument("-u", "--user", default="", help="username or UID[:group]")
    add_attach_flags(parser, sig_proxy=False)
    parser.add_argument("--privileged", action="store_true",
                        help="give extended privileges to the command")
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Run a command in a running container and exit with its status."""
    # Imported here: parsing argv loads every verb module; a command needs only its own.
    from runtime_client.ops.exec import ExecOptions, exec_
    if not args.command:
        ctx.stderr.write("berth: 'exec' requires at least 2 arguments.\n")
        return 125
    try:
        # runc copies the exec's terminal itself: the keys are checked as Docker checks them
        # (the daemon's `escape` wording), but do not detach an exec yet.
        detach_keys(ctx, args.detach_keys, "escape")
    except ContainerError as exc:
        return fail(ctx, exc)
    opts = ExecOptions(args.container, tuple(args.command), args.interactive, args.tty,
                       args.detach, tuple(args.env), args.workdir, args.user,
                       args.privileged)
    ctx.stdout.flush()
    try:
        with open_context(ctx) as c:
            return exec_(c, opts, ctx.stdin, ctx.stdout_binary,
                         getattr(ctx.stderr, "buffer", None))
    except (ContainerError, RuntimeClientError) as exc:
        return fail(ctx, exc, "exec") if isinstance(exc, ContainerError) and \
            exc.exit_code != 125 else fail(ctx, exc)
