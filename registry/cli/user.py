"""`berth-hub user add|passwd|rm|ls`: manage accounts on the hub's data directory."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from registry.auth.credentials import new_password
from registry.cli.common import print_table
from registry.cli.hubdata import CLI_ACTOR, read_password, run_accounts
from registry.hub.accounts import AccountService


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="user_command", required=True)
    add = verbs.add_parser("add", help="create a user (prints a generated password if none given)")
    add.add_argument("name")
    add.add_argument("--admin", action="store_true", help="the user administers the hub")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add_common(add)
    add.set_defaults(func=run_add)
    passwd = verbs.add_parser("passwd", help="set a user's password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    add_common(passwd)
    passwd.set_defaults(func=run_passwd)
    remove = verbs.add_parser("rm", help="remove a user (its repositories stay)")
    remove.add_argument("name")
    add_common(remove)
    remove.set_defaults(func=run_rm)
    listing = verbs.add_parser("ls", help="list users")
    add_common(listing)
    listing.set_defaults(func=run_ls)


def run_add(args: argparse.Namespace) -> int:
    given = read_password(args.password_stdin)
    password = given if given is not None else new_password()

    async def add(accounts: AccountService) -> None:
        await accounts.add_user(args.name, password, is_admin=args.admin, actor=CLI_ACTOR)

    status, _ = run_accounts(args, add)
    if status == 0:
        print(f"created user {args.name}" + (" (admin)" if args.admin else ""))
        if given is None:
            print(f"password: {password}")
    return status


def run_passwd(args: argparse.Namespace) -> int:
    given = read_password(args.password_stdin)
    password = given if given is not None else new_password()

    async def passwd(accounts: AccountService) -> None:
        await accounts.set_password(args.name, password, actor=CLI_ACTOR)

    status, _ = run_accounts(args, passwd)
    if status == 0:
        print(f"password of {args.name} changed")
        if given is None:
            print(f"password: {password}")
    return status


def run_rm(args: argparse.Namespace) -> int:
    async def remove(accounts: AccountService) -> None:
        await accounts.remove_user(args.name, actor=CLI_ACTOR)

    status, _ = run_accounts(args, remove)
    if status == 0:
        print(f"removed user {args.name}")
    return status


def run_ls(args: argparse.Namespace) -> int:
    status, users = run_accounts(args, lambda accounts: accounts.users())
    if users is not None:
        print_table(
            ("NAME", "ADMIN", "CREATED"),
            [
                (user.name, "yes" if user.is_admin else "no",
                 user.created_at.strftime("%Y-%m-%d %H:%M:%S"))
                for user in users
            ],
        )
    return status
