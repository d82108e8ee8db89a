"""`berth-hub token add|ls|rm`: personal access tokens (the secret is printed once)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from registry.auth.policy import TOKEN_SCOPES
from registry.cli.hubdata import CLI_ACTOR, run_accounts
from registry.hub.accounts import AccountService


def register(subparsers: argparse._SubParsersAction, add_common: Callable) -> None:
    parser = subparsers.add_parser("token", help="personal access tokens")
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


def run_add(args: argparse.Namespace) -> int:
    async def add(accounts: AccountService) -> tuple[int, str]:
        record, secret = await accounts.create_token(
            args.user, args.name, args.scope, actor=CLI_ACTOR
        )
        return record.id, secret

    status, created = run_accounts(args, add)
    if created is not None:
        token_id, secret = created
        print(f"token {token_id} for {args.user} ({','.join(sorted(set(args.scope)))}):")
        print(secret)
    return status


def run_ls(args: argparse.Namespace) -> int:
    status, tokens = run_accounts(args, lambda accounts: accounts.tokens(args.user))
    if tokens is not None:
        print(f"{'ID':<6} {'NAME':<20} {'SCOPES':<24} {'CREATED':<20} STATE")
        for token in tokens:
            created = token.created_at.strftime("%Y-%m-%d %H:%M:%S")
            state = "revoked" if token.revoked_at else "active"
            scopes = ",".join(sorted(token.scopes))
            print(f"{token.id:<6} {token.name:<20} {scopes:<24} {created:<20} {state}")
    return status


def run_rm(args: argparse.Namespace) -> int:
    async def remove(accounts: AccountService) -> None:
        await accounts.revoke_token(args.user, args.id, actor=CLI_ACTOR)

    status, _ = run_accounts(args, remove)
    if status == 0:
        print(f"revoked token {args.id} of {args.user}")
    return status
