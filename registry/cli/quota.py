"""`berth-hub quota set|show|ls`: storage quotas of namespaces and their usage.

Works on the hub's database, hubs running or not: the next push into the namespace is checked
against the new limit. SIZE is bytes (`1073741824`), a size with a unit (`500MiB`, `2GB`;
`registry.hub.sizes`) or `none` (no quota).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.common import print_table
from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.hub.audit import AuditLog
from registry.hub.quotas import QuotaService, QuotaView
from registry.hub.sizes import SizeError, format_size, parse_size

__all__ = ["register"]


def _size(text: str) -> int | None:
    try:
        return parse_size(text)
    except SizeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="quota_command", required=True)
    put = verbs.add_parser("set", help="set a namespace's quota (none removes it)")
    put.add_argument("namespace")
    put.add_argument("size", type=_size, metavar="SIZE", help="e.g. 500MiB, 2GB, 1073741824, none")
    add_common(put)
    put.set_defaults(func=run_set)
    show = verbs.add_parser("show", help="a namespace's quota and usage")
    show.add_argument("namespace")
    add_common(show)
    show.set_defaults(func=run_show)
    listing = verbs.add_parser("ls", help="every namespace with a quota, and its usage")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    add_common(listing)
    listing.set_defaults(func=run_ls)


def _quotas(engine: AsyncEngine) -> QuotaService:
    return QuotaService(engine, AuditLog(engine))


def _percent(view: QuotaView) -> str:
    return "-" if view.percent is None else f"{view.percent:.1f}%"


def _describe(view: QuotaView) -> str:
    used = f"{format_size(view.used_bytes)} ({view.used_bytes} bytes)"
    if view.limit_bytes is None:
        return f"{view.namespace}: uses {used}, no quota"
    limit = f"{format_size(view.limit_bytes)} ({view.limit_bytes} bytes)"
    return f"{view.namespace}: uses {used} of its {limit} quota ({_percent(view)})"


def run_set(args: argparse.Namespace) -> int:
    async def action(engine: AsyncEngine) -> QuotaView:
        return await _quotas(engine).set(args.namespace, args.size, actor=CLI_ACTOR)

    status, view = run_with_engine(args, action)
    if view is not None:
        print(_describe(view))
    return status


def run_show(args: argparse.Namespace) -> int:
    status, view = run_with_engine(args, lambda engine: _quotas(engine).show(args.namespace))
    if view is not None:
        print(_describe(view))
    return status


def run_ls(args: argparse.Namespace) -> int:
    status, views = run_with_engine(args, lambda engine: _quotas(engine).all())
    if views is None:
        return status
    if args.format == "json":
        doc = [
            {
                "namespace": view.namespace,
                "limit_bytes": view.limit_bytes,
                "used_bytes": view.used_bytes,
                "percent": None if view.percent is None else round(view.percent, 2),
            }
            for view in views
        ]
        json.dump(doc, sys.stdout, indent=2)
        print()
        return status
    print_table(
        ("NAMESPACE", "USED", "LIMIT", "PERCENT"),
        [
            (
                view.namespace,
                format_size(view.used_bytes),
                "-" if view.limit_bytes is None else format_size(view.limit_bytes),
                _percent(view),
            )
            for view in views
        ],
    )
    return status
