"""`berth-hub config check|show`: validate the configuration before starting the hub."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

from sqlalchemy.engine import make_url

from registry.cli.common import settings_from_args
from registry.config_check import check_settings
from registry.settings import Settings


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    actions = parser.add_subparsers(dest="config_command", required=True)
    check = actions.add_parser(
        "check", help="report mistakes (unknown keys, bad values, unreachable database/bucket)"
    )
    add_common(check)
    check.set_defaults(func=run_check)
    show = actions.add_parser("show", help="print the effective settings")
    add_common(show)
    show.set_defaults(func=run_show)


def _masked(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def _describe(settings: Settings) -> list[str]:
    return [
        f"listen = {settings.listen_host}:{settings.listen_port}",
        f"data_dir = {settings.data_dir}",
        f"database_url = {_masked(settings.database_url or '')}",
        f"storage_url = {settings.storage_url}",
        f"auto_migrate = {settings.auto_migrate}",
        f"s3: region={settings.s3_region} endpoint_url={settings.s3_endpoint_url} "
        f"path_style={settings.s3_path_style} redirect={settings.s3_redirect}",
        f"gc: interval={settings.gc_interval}s grace={settings.gc_grace}s",
        f"workers = {settings.workers}",
        *(
            f"proxy {namespace.name}/ -> {namespace.url}"
            + (f" as {namespace.username}" if namespace.username else " (anonymous)")
            + (f", expires after {namespace.expire_days:g} days unpulled"
               if namespace.expire_days is not None else "")
            for namespace in settings.proxy_namespaces
        ),
        *(
            [f"proxy: tag_ttl={settings.proxy_tag_ttl}s mirror={settings.proxy_mirror}"]
            if settings.proxy_namespaces
            else []
        ),
    ]


def run_check(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    problems = asyncio.run(check_settings(settings))
    for problem in problems:
        print(f"problem: {problem}")
    if problems:
        return 1
    print("configuration OK")
    for line in _describe(settings):
        print(f"  {line}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    for line in _describe(settings_from_args(args)):
        print(line)
    return 0
