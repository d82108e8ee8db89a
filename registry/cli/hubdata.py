"""Running account commands on the hub's database (the data directory), hub running or not.

SQLite in WAL mode (or PostgreSQL) lets these commands write while hub processes serve;
the hubs see the changes on their next query (access tokens revoked here are refused by
basic auth and the token endpoint at once, by bearer tokens minted from them within a second).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.common import settings_from_args
from registry.datadir import prepare_data_dir
from registry.db.engine import create_engine
from registry.db.migrate import check_schema, upgrade_schema
from registry.errors import RegistryError
from registry.hub.accounts import AccountService
from registry.hub.audit import CLI_ACTOR, AuditLog

__all__ = ["CLI_ACTOR", "read_password", "run_accounts", "run_with_engine"]

T = TypeVar("T")


def run_accounts(
    args: argparse.Namespace, action: Callable[[AccountService], Awaitable[T]]
) -> tuple[int, T | None]:
    """Run `action` with an AccountService on the configured database.

    Returns:
        (exit status, the action's result); errors are printed, with status 1.
    """
    return run_with_engine(args, lambda engine: action(AccountService(engine, AuditLog(engine))))


def run_with_engine(
    args: argparse.Namespace, action: Callable[[AsyncEngine], Awaitable[T]]
) -> tuple[int, T | None]:
    """Run `action` on the configured (migrated) database engine; see `run_accounts`."""

    async def main() -> T:
        settings = settings_from_args(args)
        prepare_data_dir(settings)
        engine = create_engine(settings.database_url or "")
        try:
            if settings.auto_migrate:
                await upgrade_schema(engine)
            else:
                await check_schema(engine)
            return await action(engine)
        finally:
            await engine.dispose()

    try:
        return 0, asyncio.run(main())
    except RegistryError as exc:
        print(f"berth-hub: {exc.message or exc.code}", file=sys.stderr)
        return 1, None


def read_password(from_stdin: bool) -> str | None:
    """The new password: from stdin, from a terminal prompt, or None (generate one)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("berth-hub: the passwords differ")
        return first
    return None
