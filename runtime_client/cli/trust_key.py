"""`berth trust key generate NAME [--dir DIR]` / `berth trust key load KEYFILE --name NAME`."""

from __future__ import annotations

import argparse

from runtime_client.cli.base import CliContext
from runtime_client.options import TrustKeyOptions


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the `generate` and `load` sub-commands."""
    actions = parser.add_subparsers(dest="key_action", metavar="COMMAND", required=True,
                                    parser_class=type(parser))
    generate = actions.add_parser("generate", help="Generate and load a signing key-pair")
    generate.add_argument("name", metavar="NAME")
    generate.add_argument("--dir", help="directory to write the public key to")
    load = actions.add_parser("load", help="Load a private key file for signing")
    load.add_argument("key_file", metavar="KEYFILE")
    load.add_argument("--name", default="signer", help="name for the loaded key")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    """Generate or load a signer key."""
    # Imported here: argv parsing loads every verb module, each command needs only its own.
    from runtime_client.ops.trust_key import trust_key_generate, trust_key_load
    if args.key_action == "generate":
        trust_key_generate(ctx.config, TrustKeyOptions(args.name, args.dir), ctx.stdout,
                           ctx.env)
    else:
        trust_key_load(ctx.config, TrustKeyOptions(args.name, key_file=args.key_file),
                       ctx.stdout, ctx.env)
    return 0
