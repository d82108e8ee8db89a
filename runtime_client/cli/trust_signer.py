"""`berth trust signer add --key PUB NAME REPO...` / `berth trust signer remove NAME REPO...`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.errors import UsageError
from runtime_client.options import TrustSignerOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the `add` and `remove` sub-commands."""
    actions = parser.add_subparsers(dest="signer_action", metavar="COMMAND", required=True,
                                    parser_class=type(parser))
    add = actions.add_parser("add", help="Add a signer")
    add.add_argument("--key", action="append", default=[], help="path to a signer's public key")
    add.add_argument("name", metavar="NAME")
    add.add_argument("repositories", nargs="+", metavar="REPOSITORY")
    remove = actions.add_parser("remove", help="Remove a signer")
    remove.add_argument("-f", "--force", action="store_true", help="do not prompt")
    remove.add_argument("name", metavar="NAME")
    remove.add_argument("repositories", nargs="+", metavar="REPOSITORY")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Add or remove a signer."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.trust_signer import trust_signer_add, trust_signer_remove
    if args.signer_action == "add":
        if not args.key:
            raise UsageError("path to a public key must be provided using the `--key` flag")
        opts = TrustSignerOptions(args.name, tuple(args.repositories), tuple(args.key))
        trust_signer_add(ctx.config, opts, ctx.stdout, ctx.env)
    else:
        opts = TrustSignerOptions(args.name, tuple(args.repositories))
        trust_signer_remove(ctx.config, opts, ctx.stdout, ctx.env)
    return 0
