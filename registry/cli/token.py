"""`berth-hub token add|ls|rm`: personal access tokens (the secret is printed once).

Also the hub's token-signing keys: `token keys` lists them, `token rotate-key` adds a new one
that signs from then on, `token prune-keys --older-than DURATION` drops old ones.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.keystore import (
    REFRESH_SECONDS,
    prune_signing_keys,
    rotate_signing_key,
    signing_key_records,
)
from registry.auth.policy import TOKEN_SCOPES
from registry.cli.common import print_table, settings_from_args
from registry.cli.hubdata import CLI_ACTOR, run_accounts, run_with_engine
from registry.db.account_queries import TokenRecord
from registry.hub.accounts import AccountService
from registry.keysecret import key_encryption_secret

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> timedelta:
    """A duration argument: a number with an optional unit, `90s`, `15m`, `12h`, `30d`.

    Raises:
        argparse.ArgumentTypeError: anything else.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 90s, 15m, 12h, 30d)")
    return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="token_command", required=True)
    add = verbs.add_parser("add", help="create a token for a user and print it once")
    add.add_argument("user")
    add.add_argument("--name", required=True, help="what the token is for")
    add.add_argument(
        "--scope",
        action="append",
        choices=TOKEN_SCOPES,
        required=True,
        help="read, write, delete or admin (repeat for several)",
    )
    add.add_argument(
        "--expires",
        type=duration,
        metavar="DURATION",
        help="stop working this long from now (e.g. 30d, at most 366d); default: when revoked",
    )
    add_common(add)
    add.set_defaults(func=run_add)
    listing = verbs.add_parser("ls", help="list a user's tokens")
    listing.add_argument("user")
    add_common(listing)
    listing.set_defaults(func=run_ls)
    remove = verbs.add_parser("rm", help="revoke a token (refused from now on)")
    remove.add_argument("user")
    remove.add_argument("id", type=int)
    add_common(remove)
    remove.set_defaults(func=run_rm)
    keys = verbs.add_parser("keys", help="list the hub's token-signing keys")
    add_common(keys)
    keys.set_defaults(func=run_keys)
    rotate = verbs.add_parser(
        "rotate-key", help="add a token-signing key that signs from now on (old keys still verify)"
    )
    add_common(rotate)
    rotate.set_defaults(func=run_rotate_key)
    prune = verbs.add_parser(
        "prune-keys", help="drop signing keys replaced longer ago than --older-than"
    )
    prune.add_argument(
        "--older-than",
        type=duration,
        required=True,
        metavar="DURATION",
        help="drop keys a newer key replaced at least this long ago (90s, 15m, 12h, 30d); "
        "tokens they signed are refused from then on",
    )
    add_common(prune)
    prune.set_defaults(func=run_prune_keys)


def run_add(args: argparse.Namespace) -> int:
    async def add(accounts: AccountService) -> tuple[int, str]:
        expires_at = None if args.expires is None else datetime.now(UTC) + args.expires
        record, secret = await accounts.create_token(
            args.user, args.name, args.scope, expires_at=expires_at, actor=CLI_ACTOR
        )
        return record.id, secret

    status, created = run_accounts(args, add)
    if created is not None:
        token_id, secret = created
        print(f"token {token_id} for {args.user} ({','.join(sorted(set(args.scope)))}):")
        print(secret)
    return status


def _state(token: TokenRecord, now: datetime) -> str:
    if token.revoked_at:
        return "revoked"
    return "expired" if token.is_expired(now) else "active"


def run_ls(args: argparse.Namespace) -> int:
    status, tokens = run_accounts(args, lambda accounts: accounts.tokens(args.user))
    if tokens is not None:
        now = datetime.now(UTC)
        print_table(
            ("ID", "NAME", "SCOPES", "CREATED", "EXPIRES", "STATE"),
            [
                (
                    token.id,
                    token.name,
                    ",".join(sorted(token.scopes)),
                    token.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    token.expires_at.strftime("%Y-%m-%d %H:%M:%S") if token.expires_at else "never",
                    _state(token, now),
                )
                for token in tokens
            ],
        )
    return status


def run_rm(args: argparse.Namespace) -> int:
    async def remove(accounts: AccountService) -> None:
        await accounts.revoke_token(args.user, args.id, actor=CLI_ACTOR)

    status, _ = run_accounts(args, remove)
    if status == 0:
        print(f"revoked token {args.id} of {args.user}")
    return status


def run_keys(args: argparse.Namespace) -> int:
    status, records = run_with_engine(args, signing_key_records)
    if records:
        print_table(
            ("KEY ID", "CREATED", "STATE"),
            [
                (
                    record.kid,
                    record.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "signs" if index == len(records) - 1 else "verifies",
                )
                for index, record in enumerate(records)
            ],
        )
    return status


def run_rotate_key(args: argparse.Namespace) -> int:
    secret = key_encryption_secret(settings_from_args(args))

    async def rotate(engine: AsyncEngine) -> str:
        return (await rotate_signing_key(engine, secret)).kid

    status, kid = run_with_engine(args, rotate)
    if kid is not None:
        print(f"new token signing key {kid}")
        print(
            f"running hubs sign with it within {REFRESH_SECONDS:.0f}s; "
            "the older keys still verify until `berth-hub token prune-keys`"
        )
    return status


def run_prune_keys(args: argparse.Namespace) -> int:
    async def prune(engine: AsyncEngine) -> list[str]:
        return await prune_signing_keys(engine, args.older_than, datetime.now(UTC))

    status, dropped = run_with_engine(args, prune)
    if dropped is not None:
        for kid in dropped:
            print(f"dropped token signing key {kid}")
        if not dropped:
            print("no signing key was replaced that long ago")
    return status
