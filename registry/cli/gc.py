"""`berth-hub gc`: online garbage collection (safe while hubs serve pushes)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from sqlalchemy.exc import OperationalError

from registry.app import storage_driver
from registry.cli.common import settings_from_args, setup_logging
from registry.db.engine import create_engine
from registry.db.migrate import SchemaBehindError, check_schema
from registry.proxy.expiry import ExpiredTag, expire_cached
from registry.services.gc import DEFAULT_UPLOAD_EXPIRY, GarbageCollector, GcOptions, GcReport
from registry.storage.driver.base import StorageDriverError


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    add_common(parser)
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would go and the bytes freed"
    )
    parser.add_argument(
        "--grace",
        type=float,
        help="seconds an unreferenced blob or untagged manifest is kept (default: the gc_grace "
        "setting, 3600); keep it at least the serving hubs' gc_grace, which sets how often a "
        "HEAD refreshes a blob a client is about to reuse",
    )
    parser.add_argument(
        "--keep-untagged", action="store_true", help="keep untagged manifests; collect blobs only"
    )
    parser.add_argument(
        "--upload-expiry",
        type=float,
        default=DEFAULT_UPLOAD_EXPIRY,
        help="seconds an untouched upload session is kept (default: 7 days)",
    )
    parser.set_defaults(func=run)


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.2f} MiB"


def print_report(
    report: GcReport, expired: Sequence[ExpiredTag] = (), out: TextIO = sys.stdout
) -> None:
    """Print the report, one line per removed item, then the totals."""
    verb = "would remove" if report.dry_run else "removed"
    for tag in expired:
        print(
            f"{'would expire' if report.dry_run else 'expired'} cached tag "
            f"{tag.repository}:{tag.tag} "
            f"(last pulled or cached {tag.last_used:%Y-%m-%d %H:%M} UTC)",
            file=out,
        )
    for m in report.manifests:
        print(f"{verb} manifest {m.repository}@{m.digest}", file=out)
    for repository, digest in report.links:
        print(f"{verb} link {repository} -> {digest}", file=out)
    for blob in report.blobs:
        print(f"{verb} blob {blob.digest} ({blob.size} bytes)", file=out)
    for blob in report.orphans:
        print(f"{verb} unrecorded blob {blob.digest} ({blob.size} bytes)", file=out)
    for upload in report.uploads:
        print(f"{verb} upload session {upload}", file=out)
    for repository in report.repositories:
        print(f"{verb} emptied cache repository {repository}", file=out)
    print(
        f"{verb} {len(report.manifests)} manifests, {len(report.links)} links, "
        f"{len(report.blobs) + len(report.orphans)} blobs, {len(report.uploads)} upload "
        f"sessions, {len(report.repositories)} emptied cache repositories; "
        f"{'would free' if report.dry_run else 'freed'} {report.bytes_freed} bytes "
        f"({_mib(report.bytes_freed)})"
        + (f"; {report.spared} spared by concurrent pushes" if report.spared else ""),
        file=out,
    )


async def _collect(args: argparse.Namespace) -> tuple[list[ExpiredTag], GcReport]:
    settings = settings_from_args(args)
    options = GcOptions(
        grace=args.grace if args.grace is not None else settings.gc_grace,
        dry_run=args.dry_run,
        delete_untagged=not args.keep_untagged,
        upload_expiry=args.upload_expiry,
        drop_emptied=tuple(namespace.name for namespace in settings.proxy_namespaces),
    )
    engine = create_engine(settings.database_url or "")
    try:
        await check_schema(engine)
        # Expired proxy tags first, so this run reclaims what only they held.
        expired = await expire_cached(
            engine, settings.proxy_namespaces, datetime.now(UTC), dry_run=args.dry_run
        )
        return expired, await GarbageCollector(storage_driver(settings), engine).run(options)
    finally:
        await engine.dispose()


def run(args: argparse.Namespace) -> int:
    setup_logging("WARNING")
    try:
        expired, report = asyncio.run(_collect(args))
    except SchemaBehindError as exc:
        print(f"berth-hub: {exc}", file=sys.stderr)
        return 2
    except (OperationalError, StorageDriverError) as exc:
        print(f"berth-hub: cannot collect garbage: {exc}", file=sys.stderr)
        return 1
    print_report(report, expired)
    return 0
