"""`berth-hub proxy seal-password NAMESPACE`: seal an upstream password for the config file.

The password is read from standard input (never from the command line, where `ps` would show
it); the sealed text printed goes into `[proxy.namespaces.NAMESPACE] password`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from registry.cli.common import settings_from_args
from registry.hub.names import account_name_problem
from registry.keysecret import key_encryption_secret
from registry.proxy.credentials import CredentialSealer


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="proxy_command", required=True)
    seal = verbs.add_parser(
        "seal-password",
        help="seal an upstream password (read from stdin) for [proxy.namespaces.NAMESPACE]",
    )
    seal.add_argument("namespace", help="the proxy namespace the password is for")
    add_common(seal)
    seal.set_defaults(func=run_seal_password)


def run_seal_password(args: argparse.Namespace) -> int:
    problem = account_name_problem(args.namespace)
    if problem is not None:
        print(f"berth-hub: {problem}", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("berth-hub: no password on standard input", file=sys.stderr)
        return 2
    settings = settings_from_args(args)
    sealer = CredentialSealer(key_encryption_secret(settings))
    print(sealer.seal(args.namespace, password))
    return 0
