"""`berth-hub audit ls`: read the audit log on the data directory (newest first)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from registry.cli.hubdata import run_with_engine
from registry.hub.audit import AuditLog


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="audit_command", required=True)
    listing = verbs.add_parser("ls", help="logins, pushes, deletes, permission changes")
    listing.add_argument("--limit", type=int, default=50, help="events to show (default 50)")
    listing.add_argument("--action", help="only this action (login, push, grant, ...)")
    add_common(listing)
    listing.set_defaults(func=run_ls)


def run_ls(args: argparse.Namespace) -> int:
    status, events = run_with_engine(
        args, lambda engine: AuditLog(engine).events(limit=args.limit, action=args.action)
    )
    for event in events or []:
        when = event.created_at.strftime("%Y-%m-%d %H:%M:%S")
        detail = json.dumps(event.detail, sort_keys=True) if event.detail else ""
        print(
            f"{when}  {event.actor:<16} {event.action:<18} {event.target:<32} "
            f"{event.address:<16} {detail}".rstrip()
        )
    return status
