"""`berth-hub keys reseal`: seal every stored private key under the configured secret.

The configured key-encryption secret (`trust_key_secret`, else `<data>/trust-key-secret`) is
the new one; the old one comes from a file (`-` reads standard input) or an environment
variable, never from the command line, where `ps` would show it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.common import settings_from_args
from registry.cli.hubdata import run_with_engine
from registry.keyreseal import ResealReport, reseal_keys
from registry.keysecret import SECRET_FILE, SECRET_SETTING, key_encryption_secret


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="keys_command", required=True)
    reseal = verbs.add_parser(
        "reseal",
        help="re-seal every stored private key (token signing, trust) under the configured "
        "key-encryption secret",
    )
    old = reseal.add_mutually_exclusive_group(required=True)
    old.add_argument(
        "--old-secret-file",
        metavar="PATH",
        help="file holding the old secret (surrounding whitespace ignored; - reads stdin)",
    )
    old.add_argument(
        "--old-secret-env", metavar="VAR", help="environment variable holding the old secret"
    )
    add_common(reseal)
    reseal.set_defaults(func=run_reseal)


class _OldSecretError(Exception):
    """The old secret cannot be read."""


def _old_secret(args: argparse.Namespace) -> bytes:
    if args.old_secret_env:
        value = os.environ.get(args.old_secret_env)
        if not value:
            raise _OldSecretError(f"the environment variable {args.old_secret_env} is not set")
        return value.encode()
    try:
        if args.old_secret_file == "-":
            text = sys.stdin.read()
        else:
            text = Path(args.old_secret_file).read_text()
    except OSError as exc:
        raise _OldSecretError(f"cannot read the old secret: {exc}") from exc
    if not text.strip():
        raise _OldSecretError(f"{args.old_secret_file} holds no secret")
    return text.strip().encode()


def _print_report(report: ResealReport) -> None:
    signing, trust = report.signing, report.trust
    print(f"{'KEYS':<20} {'STORED':>7} {'RESEALED':>9} {'UNCHANGED':>10}")
    print(
        f"{'token signing':<20} {signing.stored:>7} {signing.resealed + signing.plain:>9} "
        f"{signing.already:>10}"
    )
    print(f"{'trust server':<20} {trust.stored:>7} {trust.resealed:>9} {trust.already:>10}")
    hooks = report.webhooks
    print(f"{'webhook secrets':<20} {hooks.stored:>7} {hooks.resealed:>9} {hooks.already:>10}")
    if signing.plain:
        print(f"{signing.plain} token signing key(s) were stored unencrypted and are sealed now")
    if signing.already or trust.already or hooks.already:
        print("unchanged keys were sealed under the configured secret already")


def run_reseal(args: argparse.Namespace) -> int:
    try:
        old_secret = _old_secret(args)
    except _OldSecretError as exc:
        print(f"berth-hub: {exc}", file=sys.stderr)
        return 2
    new_secret = key_encryption_secret(settings_from_args(args))

    async def reseal(engine: AsyncEngine) -> ResealReport:
        return await reseal_keys(engine, old_secret, new_secret)

    status, report = run_with_engine(args, reseal)
    if report is not None:
        _print_report(report)
        print(
            f"every stored key opens with the configured secret ({SECRET_SETTING}, else the "
            f"file {SECRET_FILE} in the data directory); restart every hub with it"
        )
    return status
