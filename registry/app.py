"""The only composition root of the hub: `create_app(settings) -> web.Application`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from registry import keys
from registry.admission.service import AdmissionOptions, AdmissionService
from registry.api.authorization import (
    RULES,
    authorization_middleware,
    check_every_route_has_a_rule,
)
from registry.api.headers import set_common_headers
from registry.api.hub_middleware import hub_middleware
from registry.api.hub_routes import HUB_ROUTES, setup_hub_routes
from registry.api.middleware import error_middleware, log_middleware
from registry.api.routes import ROUTES, setup_routes
from registry.api.shortchain import short_chain_middleware
from registry.auth.access import AllowAll
from registry.auth.authenticator import Authenticator
from registry.auth.controller import TokenAccessController
from registry.auth.grants import Grants
from registry.auth.keystore import TokenKeys
from registry.auth.revocations import RevocationCache
from registry.auth.throttle import LoginLimits, LoginThrottle
from registry.config import ConfigError, Problem
from registry.datadir import prepare_data_dir
from registry.db.engine import create_engine
from registry.db.hotreads import create_hot_reads
from registry.db.migrate import check_schema, upgrade_schema
from registry.db.writer import create_writer
from registry.hub.accounts import ADMIN_USER, AccountService
from registry.hub.audit import AuditLog
from registry.hub.filesystem import ImageFilesystem
from registry.hub.images import ImageService
from registry.hub.immutability import ImmutabilityService
from registry.hub.pulls import PullCounter
from registry.hub.quotas import QuotaService
from registry.hub.repositories import RepositoryService
from registry.hub.retention import RetentionService, run_schedule
from registry.hub.robots import RobotService
from registry.hub.signature_policies import SignaturePolicyService
from registry.keysecret import key_encryption_secret
from registry.metrics import Metrics
from registry.proxy.blobfetch import BlobFetcher
from registry.proxy.cache import ProxyCache
from registry.proxy.credentials import CredentialSealer, SealedCredentialError
from registry.proxy.expiry import run_expiry_schedule
from registry.proxy.fetchclaims import FetchClaims
from registry.proxy.middleware import mirror_middleware, proxy_middleware
from registry.proxy.upstream import UpstreamClient
from registry.replication.wiring import replication_service, run_replication
from registry.services.blobs import BlobService
from registry.services.gc import GarbageCollector, GcOptions
from registry.services.manifests import ManifestService
from registry.services.uploads import UploadService
from registry.settings import Settings
from registry.storage.driver.base import StorageDriver
from registry.storage.driver.factory import create_driver
from registry.storage.driver.s3 import S3Config
from registry.trustmount import TRUST_RULES, mount_trust
from registry.web.render import create_environment
from registry.web.routes import WEB_RULES, setup_web_routes
from registry.web.security import web_middleware
from registry.web.sessions import SessionStore
from registry.webhooks.addresses import AddressPolicy, own_addresses
from registry.webhooks.secretseal import WebhookSecretSealer
from registry.webhooks.service import WebhookService
from registry.webhooks.worker import DeliveryOptions, DeliveryWorker

logger = logging.getLogger(__name__)

__all__ = ["create_app", "storage_driver"]

READ_BUFFER = 1 << 20  # bytes of a request body buffered before the connection is paused


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[keys.SETTINGS]
    engine = create_engine(settings.database_url or "")
    if settings.auto_migrate:
        await upgrade_schema(engine)
    else:
        await check_schema(engine)
    reads = create_hot_reads(engine)
    writer = create_writer(engine)
    worker = DeliveryWorker(
        writer,
        _address_policy(settings),
        _delivery_options(settings),
        WebhookSecretSealer(key_encryption_secret(settings)),
    )
    app[keys.WEBHOOK_WORKER] = worker
    app[keys.ENGINE] = engine
    app[keys.READS] = reads
    app[keys.WRITER] = writer
    app[keys.BLOBS] = BlobService(
        app[keys.DRIVER], reads, writer, link_refresh_after=settings.gc_grace / 2
    )
    app[keys.UPLOADS] = UploadService(app[keys.DRIVER], writer)
    app[keys.MANIFESTS] = ManifestService(engine, reads, writer, events_recorded=worker.wake)
    yield
    writer.close()
    reads.close()
    await engine.dispose()


def _address_policy(settings: Settings) -> AddressPolicy:
    return AddressPolicy.parse(
        settings.webhook_allowed_targets, own_addresses(settings.listen_host)
    )


def _delivery_options(settings: Settings) -> DeliveryOptions:
    return DeliveryOptions(
        poll_seconds=settings.webhook_poll_seconds,
        timeout_seconds=settings.webhook_timeout_seconds,
        retry_seconds=settings.webhook_retry_seconds,
        max_attempts=settings.webhook_max_attempts,
        lease_seconds=settings.webhook_lease_seconds,
        log_seconds=settings.webhook_log_days * 86400,
    )


async def _webhook_delivery(app: web.Application) -> AsyncIterator[None]:
    """This process's delivery worker (every replica runs one; leases keep them apart)."""
    task = asyncio.create_task(app[keys.WEBHOOK_WORKER].run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


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
    # Cached repositories left empty go (`registry.services.gc`, 6.).
    options = GcOptions(
        grace=settings.gc_grace,
        drop_emptied=tuple(namespace.name for namespace in settings.proxy_namespaces),
    )

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


async def _retention_schedule(app: web.Application) -> AsyncIterator[None]:
    """Scheduled retention runs: every replica checks, one at a time runs (a database lease)."""
    task = asyncio.create_task(
        run_schedule(app[keys.RETENTION], app[keys.SETTINGS].retention_check_interval)
    )
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _hub(app: web.Application) -> AsyncIterator[None]:
    """Accounts, token auth and repository data; auth replaces the open access controller."""
    settings, engine, writer = app[keys.SETTINGS], app[keys.ENGINE], app[keys.WRITER]
    audit = AuditLog(engine, writer)
    accounts = AccountService(engine, audit)
    token_keys = await TokenKeys.load(
        engine, key_encryption_secret(settings), settings.auth_service
    )
    await accounts.ensure_library()
    throttle = LoginThrottle(
        engine,
        app[keys.READS],
        LoginLimits(
            window_seconds=settings.login_window_seconds,
            per_pair=settings.login_failures_per_pair,
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            slowdown_seconds=settings.login_slowdown_seconds,
        ),
    )
    authenticator = Authenticator(engine, throttle, audit, app[keys.READS])
    controller = TokenAccessController(
        service=settings.auth_service,
        realm=settings.auth_realm,
        verifier=token_keys.verifier,
        authenticator=authenticator,
        grants=Grants(engine, app[keys.READS]),
        revocations=RevocationCache(authenticator.bound_principal, authenticator.bound_robot),
    )
    pulls = PullCounter(engine, settings.pull_flush_seconds)
    app[keys.AUDIT] = audit
    app[keys.ACCOUNTS] = accounts
    app[keys.ROBOTS] = RobotService(engine, audit)
    app[keys.AUTH] = controller
    app[keys.TOKEN_ISSUER] = token_keys.issuer
    app[keys.PULLS] = pulls
    app[keys.REPOSITORIES] = RepositoryService(
        engine,
        app[keys.DRIVER],
        pulls,
        audit,
        open_registry=not settings.auth_enabled,
        writer=writer,
        events_recorded=app[keys.WEBHOOK_WORKER].wake,
    )
    app[keys.SIGNATURE_POLICIES] = SignaturePolicyService(engine, audit)
    app[keys.IMMUTABILITY] = ImmutabilityService(engine, audit)
    app[keys.RETENTION] = RetentionService(engine, writer, audit, pulls)
    app[keys.QUOTAS] = QuotaService(engine, audit)
    worker = app[keys.WEBHOOK_WORKER]
    app[keys.WEBHOOKS] = WebhookService(
        engine,
        writer,
        _address_policy(settings),
        audit,
        WebhookSecretSealer(key_encryption_secret(settings)),
        wake=worker.wake,
    )
    app[keys.IMAGES] = ImageService(app[keys.MANIFESTS], app[keys.DRIVER])
    app[keys.FILESYSTEM] = ImageFilesystem(app[keys.MANIFESTS], app[keys.DRIVER])
    app[keys.WEB_SESSIONS] = SessionStore(engine)
    if settings.auth_enabled:
        app[keys.ACCESS] = controller
        password = await accounts.bootstrap_admin(settings.admin_password)
        if password is not None:
            # Shown once, on the console only (never through logging).
            print(
                f"berth-hub: created account {ADMIN_USER!r} with password: {password}\n"
                "berth-hub: this password is not shown again; change it with "
                f"`berth-hub user passwd {ADMIN_USER}`",
                file=sys.stderr,
                flush=True,
            )
    pulls.start()
    refresh = asyncio.create_task(token_keys.refresh_forever())
    yield
    refresh.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await refresh
    await pulls.stop()


async def _replication(app: web.Application) -> AsyncIterator[None]:
    """Replication rules; every replica checks for due rules and pushed tags (leases)."""
    settings = app[keys.SETTINGS]
    service = replication_service(
        settings, app[keys.ENGINE], app[keys.MANIFESTS], app[keys.BLOBS], app[keys.UPLOADS],
        app[keys.AUDIT],
    )  # fmt: skip
    app[keys.REPLICATION] = service
    interval = settings.replication_check_interval
    task = asyncio.create_task(run_replication(service, interval)) if interval > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await service.close()


async def _proxy(app: web.Application) -> AsyncIterator[None]:
    """The pull-through cache: one client session and a client per proxy namespace."""
    settings = app[keys.SETTINGS]
    sealer = CredentialSealer(key_encryption_secret(settings))
    passwords = {}
    for namespace in settings.proxy_namespaces:
        if namespace.sealed_password is not None:
            try:
                passwords[namespace.name] = sealer.open(namespace.name, namespace.sealed_password)
            except SealedCredentialError as exc:
                where = f"proxy.namespaces.{namespace.name}"
                raise ConfigError([Problem(where, str(exc))]) from exc
    # Blob bytes must reach the store exactly as the upstream sent them: no decompression.
    # HTTPS_PROXY and NO_PROXY apply, for hubs that reach the internet through a proxy.
    session = aiohttp.ClientSession(
        auto_decompress=False, trust_env=True, read_bufsize=READ_BUFFER
    )
    fetcher = BlobFetcher(app[keys.UPLOADS], settings.data_dir / "proxy-spill")
    app[keys.METRICS].describe(
        "berth_proxy_upstream_requests_total",
        "Requests the pull-through cache sent to upstream registries, by answer",
    )
    app[keys.PROXY] = ProxyCache(
        [
            UpstreamClient(
                namespace, passwords.get(namespace.name), session, app[keys.METRICS]
            )
            for namespace in settings.proxy_namespaces
        ],
        app[keys.MANIFESTS],
        app[keys.BLOBS],
        app[keys.REPOSITORIES],
        fetcher,
        tag_ttl=settings.proxy_tag_ttl,
        max_manifest_bytes=settings.max_manifest_bytes,
        mirror=settings.proxy_mirror,
    )
    app[keys.PROXY_CLAIMS] = FetchClaims(app[keys.ENGINE], app[keys.PROXY])
    expiring = [ns for ns in settings.proxy_namespaces if ns.expire_days is not None]
    expiry = (
        asyncio.create_task(run_expiry_schedule(app[keys.ENGINE], expiring, app[keys.PULLS]))
        if expiring
        else None
    )
    yield
    if expiry is not None:
        expiry.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await expiry
    await fetcher.close()
    await app[keys.PROXY_CLAIMS].close()
    await session.close()


def _check_proxy_settings(settings: Settings) -> None:
    """Raises ConfigError when `[proxy] mirror` names no proxy namespace."""
    names = {namespace.name for namespace in settings.proxy_namespaces}
    if settings.proxy_mirror is not None and settings.proxy_mirror not in names:
        raise ConfigError([Problem(
            "proxy.mirror",
            f"names no proxy namespace ({', '.join(sorted(names)) or 'none configured'})",
        )])


async def _admission(app: web.Application) -> AsyncIterator[None]:
    """The admission webhook's decisions, over the verification gate of the trust context."""
    settings = app[keys.SETTINGS]
    app[keys.ADMISSION] = AdmissionService(
        AdmissionOptions.from_settings(settings),
        app[keys.MANIFESTS],
        app[keys.CONTENT_TRUST],
        app[keys.ENGINE],
        app[keys.AUDIT],
        open_registry=not settings.auth_enabled,
    )
    yield


def _check_admission_settings(settings: Settings) -> None:
    """Raises ConfigError when `[admission] other_registries` is neither allow nor deny."""
    try:
        AdmissionOptions.from_settings(settings)
    except ValueError as exc:
        raise ConfigError([Problem("admission.other_registries", str(exc))]) from exc


def create_app(settings: Settings) -> web.Application:
    """Wire storage, database, services, routes and middlewares for one hub process."""
    _check_proxy_settings(settings)
    _check_admission_settings(settings)
    prepare_data_dir(settings)
    app = web.Application(
        # The web middleware is innermost: it renders a page's errors as HTML before the
        # error middleware would render them as the API's JSON.
        middlewares=[
            short_chain_middleware,  # trust metadata GETs: log, errors, rule, handler
            log_middleware,
            error_middleware,
            hub_middleware,
            *([mirror_middleware] if settings.proxy_mirror else []),
            authorization_middleware,
            *([proxy_middleware] if settings.proxy_namespaces else []),
            web_middleware,
        ],
        client_max_size=settings.max_manifest_bytes,
        # A request body may gather up to twice this while a blob chunk is hashed and written
        # (`registry.services.uploads`): fewer, larger chunks for the worker threads.
        handler_args={"read_bufsize": READ_BUFFER},
    )
    app.on_response_prepare.append(set_common_headers)
    app[keys.SETTINGS] = settings
    app[keys.METRICS] = Metrics()
    app[keys.DRIVER] = storage_driver(settings)
    app[keys.ACCESS] = AllowAll()
    app[keys.WEB_TEMPLATES] = create_environment()
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_hub)
    app.cleanup_ctx.append(_replication)
    if settings.proxy_namespaces:
        app.cleanup_ctx.append(_proxy)
    if settings.webhook_deliver:
        app.cleanup_ctx.append(_webhook_delivery)
    if settings.gc_interval > 0:
        app.cleanup_ctx.append(_periodic_gc)
    if settings.retention_check_interval > 0:
        app.cleanup_ctx.append(_retention_schedule)
    # Trust routes first: a GUN may contain anything a repository name can.
    mount_trust(app, settings)
    app.cleanup_ctx.append(_admission)  # after the trust context: it asks the gate
    setup_hub_routes(app)
    setup_routes(app)
    setup_web_routes(app)  # its paths (`/`, `/r/...`, `/account/...`) shadow none of the above
    app[RULES] = {
        **TRUST_RULES,
        **WEB_RULES,
        **{route.name: route.rule for route in (*HUB_ROUTES, *ROUTES)},
    }
    check_every_route_has_a_rule(app)
    return app
