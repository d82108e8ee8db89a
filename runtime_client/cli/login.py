"""`berth login`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from runtime_client.cli.base import CliContext
from runtime_client.errors import UsageError
from runtime_client.options import LoginOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `login` flags."""
    parser.add_argument("server", nargs="?", metavar="SERVER")
    parser.add_argument("-u", "--username", help="username")
    parser.add_argument("-p", "--password", help="password")
    parser.add_argument("--password-stdin", action="store_true",
                        help="take the password from stdin")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Log in to a registry."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.login import login
    password = args.password
    if args.password_stdin:
        if password is not None:
            raise UsageError("--password and --password-stdin are mutually exclusive")
        if not args.username:
            raise UsageError("Must provide --username with --password-stdin")
        password = ctx.stdin.read().decode().rstrip("\r\n")
    elif password is not None:
        ctx.stderr.write("WARNING! Using --password via the CLI is insecure. "
                         "Use --password-stdin.\n")
    username = args.username
    interactive = ctx.stdin is sys.stdin.buffer and sys.stdin.isatty()
    if interactive and not username:
        ctx.stdout.write("Username: ")
        ctx.stdout.flush()
        username = sys.stdin.readline().strip()
    if interactive and password is None:
        password = getpass.getpass("Password: ")
    opts = LoginOptions(args.server, username, password, args.password_stdin)
    asyncio.run(login(ctx.config, opts, ctx.stdout))
    return 0
