"""`berth-hub trust show|delete|rotate-key GUN`: administer content-trust data on the hub."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from registry.cli.common import settings_from_args, setup_logging
from registry.db.engine import create_engine
from registry.db.migrate import SchemaBehindError, check_schema
from registry.keysecret import key_encryption_secret
from trust.server import admin
from trust.server.service import TrustService
from trust.server.settings import TrustServerSettings
from trust.server.store.sql import SqlMetaStore


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    commands = parser.add_subparsers(dest="trust_command", required=True)
    show = commands.add_parser("show", help="stored roles and server-held keys of a GUN")
    delete = commands.add_parser("delete", help="delete all trust data of a GUN")
    rotate = commands.add_parser(
        "rotate-key", help="new server-held timestamp/snapshot key (the owner then signs it)"
    )
    rotate.add_argument("role", choices=["timestamp", "snapshot"])
    for sub in (show, delete, rotate):
        add_common(sub)
        sub.add_argument("gun", help="globally unique name, e.g. hub.example:5000/team/app")
        sub.set_defaults(func=run)


async def _run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    engine = create_engine(settings.database_url or "")
    try:
        await check_schema(engine)
        trust_settings = TrustServerSettings(key_encryption_secret(settings))
        service = TrustService(SqlMetaStore(engine), trust_settings)
        if args.trust_command == "show":
            report = await admin.describe(service, args.gun)
            if not report.exists:
                print(f"no trust data for {args.gun}")
            for role in report.roles:
                tags = f", {role.targets} targets" if role.targets is not None else ""
                print(
                    f"{role.role}: version {role.version}, expires {role.expires}{tags}, "
                    f"signed by {', '.join(role.signed_by) or 'nobody'}"
                )
            for key in report.server_keys:
                state = "active" if key.active else "not in root"
                print(f"server {key.role} key {key.key_id} ({state}, created {key.created_at})")
        elif args.trust_command == "delete":
            await admin.delete(service, args.gun)
            print(f"deleted trust data of {args.gun}")
        else:
            new_key = await admin.rotate_key(service, args.gun, args.role)
            print(f"new {args.role} key {new_key.key_id}; the owner must sign it into root.json")
        return 0
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    try:
        return asyncio.run(_run(args))
    except SchemaBehindError as exc:
        print(f"berth-hub: {exc}", file=sys.stderr)
        return 2
