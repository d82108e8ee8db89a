"""`berth-hub db upgrade|current`: manage the database schema explicitly."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from registry.cli.common import settings_from_args
from registry.datadir import prepare_data_dir
from registry.db.engine import create_engine
from registry.db.migrate import SchemaBehindError, check_schema, upgrade_schema


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    actions = parser.add_subparsers(dest="db_command", required=True)
    upgrade = actions.add_parser("upgrade", help="apply every pending migration")
    add_common(upgrade)
    upgrade.set_defaults(func=run_upgrade)
    check = actions.add_parser("check", help="exit 1 when migrations are pending")
    add_common(check)
    check.set_defaults(func=run_check)


async def _with_engine(args: argparse.Namespace, action: Callable) -> None:
    settings = settings_from_args(args)
    prepare_data_dir(settings)
    engine = create_engine(settings.database_url or "")
    try:
        await action(engine)
    finally:
        await engine.dispose()


def run_upgrade(args: argparse.Namespace) -> int:
    asyncio.run(_with_engine(args, upgrade_schema))
    print("database schema is up to date")
    return 0


def run_check(args: argparse.Namespace) -> int:
    try:
        asyncio.run(_with_engine(args, check_schema))
    except SchemaBehindError as exc:
        print(exc)
        return 1
    print("database schema is up to date")
    return 0
