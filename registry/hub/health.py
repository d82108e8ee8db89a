"""The hub's health as its admins see it: database, schema, storage, and the settings in force.

Scope: read-only probes (a query, the schema revision, listing the blob store) and a summary of
settings that holds no secret (no passwords, key secrets or URLs that may carry credentials).
Not `/healthz` and `/readyz`, which load balancers poll and which stay minimal.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db.migrate import SchemaBehindError, check_schema
from registry.settings import Settings
from registry.storage.driver.base import PathNotFoundError, StorageDriver, StorageDriverError

logger = logging.getLogger(__name__)

__all__ = ["HealthCheck", "check_health", "public_settings"]


@dataclass(frozen=True, slots=True)
class HealthCheck:
    name: str
    ok: bool
    detail: str


async def check_health(engine: AsyncEngine, driver: StorageDriver) -> list[HealthCheck]:
    """Probe the database, its schema and the blob storage; never raises."""
    checks = []
    started = time.perf_counter()
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        elapsed = (time.perf_counter() - started) * 1000
        checks.append(HealthCheck("database", True, f"{engine.dialect.name}, {elapsed:.1f} ms"))
    except Exception as exc:  # the page reports any failure; it must not fail itself
        checks.append(HealthCheck("database", False, type(exc).__name__))
    try:
        await check_schema(engine)
        checks.append(HealthCheck("schema", True, "current"))
    except SchemaBehindError as exc:
        checks.append(HealthCheck("schema", False, str(exc)))
    except Exception as exc:
        checks.append(HealthCheck("schema", False, type(exc).__name__))
    started = time.perf_counter()
    try:
        await driver.list("blobs")
        detail = "blobs listed"
    except PathNotFoundError:
        detail = "no blobs yet"
    except StorageDriverError as exc:
        checks.append(HealthCheck("storage", False, f"{driver.name}: {type(exc).__name__}"))
        return checks
    elapsed = (time.perf_counter() - started) * 1000
    checks.append(HealthCheck("storage", True, f"{driver.name}, {detail}, {elapsed:.1f} ms"))
    return checks


def public_settings(settings: Settings) -> list[tuple[str, str]]:
    """Settings an admin may read on a page: none of them secret."""
    return [
        ("listen", f"{settings.listen_host}:{settings.listen_port}"),
        ("authentication", "on" if settings.auth_enabled else "off (open registry)"),
        ("token service", settings.auth_service),
        ("token lifetime", f"{settings.token_ttl_seconds} s"),
        ("refresh-token lifetime", f"{settings.refresh_ttl_seconds} s"),
        ("failed logins per account", f"{settings.login_failures_per_account} per "
                                      f"{settings.login_window_seconds} s"),
        ("workers", str(settings.workers)),
        ("garbage collection", f"every {settings.gc_interval:g} s" if settings.gc_interval > 0
         else "manual"),
        ("garbage-collection grace", f"{settings.gc_grace:g} s"),
        ("largest manifest", f"{settings.max_manifest_bytes} bytes"),
    ]
