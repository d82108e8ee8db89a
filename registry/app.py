"""The only composition root of the hub: `create_app(settings) -> web.Application`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from registry import keys
from registry.api.middleware import access_middleware, error_middleware, log_middleware
from registry.api.routes import setup_routes
from registry.auth.access import AllowAll
from registry.db.engine import create_engine
from registry.db.hotreads import create_hot_reads
from registry.db.migrate import check_schema, upgrade_schema
from registry.metrics import Metrics
from registry.services.blobs import BlobService
from registry.services.gc import GarbageCollector, GcOptions
from registry.services.manifests import ManifestService
from registry.services.uploads import UploadService
from registry.settings import Settings
from registry.storage.driver.base import StorageDriver
from registry.storage.driver.factory import create_driver
from registry.storage.driver.s3 import S3Config
from registry.trustmount import mount_trust

logger = logging.getLogger(__name__)

__all__ = ["create_app", "storage_driver"]


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    engine = create_engine(settings.database_url or "")
    if settings.auto_migrate:
        await upgrade_schema(engine)
    else:
        await check_schema(engine)
    reads = create_hot_reads(engine)
    app[keys.ENGINE] = engine
    app[keys.BLOBS] = BlobService(
        app[keys.DRIVER], engine, reads, link_refresh_after=settings.gc_grace / 2
    )
    app[keys.UPLOADS] = UploadService(app[keys.DRIVER], engine)
    app[keys.MANIFESTS] = ManifestService(engine, reads)
    yield
    reads.close()
    await engine.dispose()


def storage_driver(settings: Settings) -> StorageDriver:
    """The storage driver the settings name (`storage_url` and the `s3_*` options)."""
    s3 = S3Config(
        region=settings.s3_region,
        endpoint_url=settings.s3_endpoint_url,
        path_style=settings.s3_path_style,
        redirect=settings.s3_redirect,
    )
    return create_driver(settings.storage_url or "", s3)


async def _periodic_gc(app: web.Application) -> AsyncIterator[None]:
    """Collect garbage every `gc_interval` seconds (every replica may; they do not collide)."""
    settings = app[keys.SETTINGS]
    collector = GarbageCollector(app[keys.DRIVER], app[keys.ENGINE])
    options = GcOptions(grace=settings.gc_grace)

    async def loop() -> None:
        while True:
            await asyncio.sleep(settings.gc_interval)
            try:
                await collector.run(options)
            except Exception:
                logger.exception("periodic garbage collection failed")

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(settings: Settings) -> web.Application:
    """Wire storage, database, services, routes and middlewares for one hub process."""
    app = web.Application(
        middlewares=[log_middleware, error_middleware, access_middleware],
        client_max_size=settings.max_manifest_bytes,
    )
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = Metrics()
    app[keys.DRIVER] = storage_driver(settings)
    app[keys.ACCESS] = AllowAll()
    app.cleanup_ctx.append(_database)
    if settings.gc_interval > 0:
        app.cleanup_ctx.append(_periodic_gc)
    # Trust routes first: a GUN may contain anything a repository name can.
    mount_trust(app, settings)
    setup_routes(app)
    return app
