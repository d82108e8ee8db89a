"""Find configuration mistakes before the hub starts: what `berth-hub config check` runs.

Each check reaches the real thing (the database, the bucket, the TLS files, the sealed keys)
and reports a `Problem` instead of raising, so one run lists every mistake.
"""

from __future__ import annotations

import logging
import os
import ssl

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.admission.service import AdmissionOptions
from registry.app import storage_driver
from registry.auth.keyseal import KeySealer, SigningKeyError
from registry.auth.keystore import open_signing_keys
from registry.config import Problem
from registry.db import account_queries, hub_queries
from registry.db.engine import create_engine
from registry.db.migrate import SchemaBehindError, check_schema
from registry.hub.names import is_namespace_name, repository_of_path
from registry.keysecret import MIN_SECRET_BYTES, SECRET_FILE, SECRET_SETTING, configured_secret
from registry.proxy.credentials import CredentialSealer, SealedCredentialError
from registry.settings import Settings
from registry.storage.driver.base import StorageDriverError
from registry.storage.driver.factory import UnknownStorageError
from registry.webhooks.addresses import AddressPolicy
from trust.server.keyseal import KeySealError, ServerKeySealer
from trust.server.reseal import open_newest_server_key

logger = logging.getLogger(__name__)

__all__ = ["check_settings"]


def _check_values(settings: Settings) -> list[Problem]:
    problems = []
    if not 0 < settings.listen_port < 65536:
        problems.append(Problem("listen", f"port {settings.listen_port} is out of range"))
    if settings.workers < 1:
        problems.append(Problem("workers", "must be at least 1"))
    if settings.gc_interval < 0 or settings.gc_grace < 0:
        problems.append(Problem("gc", "gc_interval and gc_grace must not be negative"))
    if settings.gc_interval and settings.gc_grace < 60:
        problems.append(
            Problem("gc_grace", "a periodic GC with less than 60 s of grace races slow pushes")
        )
    if settings.retention_check_interval < 0:
        problems.append(Problem("retention_check_interval", "must not be negative"))
    if settings.replication_check_interval < 0 or settings.replication_backoff < 0:
        problems.append(Problem("replication", "check interval and backoff must not be negative"))
    if settings.replication_attempts < 1:
        problems.append(Problem("replication_attempts", "must be at least 1"))
    if bool(settings.tls_cert) != bool(settings.tls_key):
        problems.append(Problem("tls", "set both tls_cert and tls_key, or neither"))
    elif settings.tls_cert and settings.tls_key:
        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                settings.tls_cert, settings.tls_key
            )
        except (OSError, ssl.SSLError) as exc:
            problems.append(Problem("tls", f"cannot load certificate and key: {exc}"))
    if settings.trust_key_secret and len(settings.trust_key_secret) < MIN_SECRET_BYTES:
        problems.append(Problem("trust_key_secret", f"must be at least {MIN_SECRET_BYTES} bytes"))
    try:
        AdmissionOptions.from_settings(settings)
    except ValueError as exc:
        problems.append(Problem("admission_other_registries", str(exc)))
    try:
        AddressPolicy.parse(settings.webhook_allowed_targets)
    except ValueError as exc:
        problems.append(Problem("webhook_allowed_targets", str(exc)))
    if settings.webhook_lease_seconds <= settings.webhook_timeout_seconds:
        problems.append(
            Problem(
                "webhook_lease_seconds",
                "must exceed webhook_timeout_seconds, or a slow delivery is sent twice",
            )
        )
    return problems


async def _check_sealed_keys(settings: Settings, engine: AsyncEngine) -> list[Problem]:
    """Open the stored token-signing keys and the newest trust key with the configured secret."""
    if settings.trust_key_secret:
        source = f"setting {SECRET_SETTING}"
    else:
        source = f"{SECRET_SETTING} is unset, so the file {settings.data_dir / SECRET_FILE}"
    secret = configured_secret(settings)
    if secret is None:
        # The hub would make a new random secret, which opens no stored key.
        secret = os.urandom(32)
        source += ", which does not exist yet"
    try:
        async with engine.connect() as conn:
            await open_signing_keys(conn, KeySealer(secret))
            await open_newest_server_key(conn, ServerKeySealer(secret))
    except (SigningKeyError, KeySealError) as exc:
        return [
            Problem(
                "trust_key_secret",
                f"{exc} [{source}]: configure the secret the keys were sealed with, or re-seal "
                "them under this one (`berth-hub keys reseal`)",
            )
        ]
    return []


async def _check_names(engine: AsyncEngine) -> list[Problem]:
    """Accounts, organisations and repositories named under older, looser rules.

    The hub refuses to sign such accounts in and serves no repository under such a namespace
    (`registry.hub.names`); they are listed here so the operator can recreate them.
    """
    async with engine.connect() as conn:
        records = await account_queries.list_namespaces(conn, "user")
        records += await account_queries.list_namespaces(conn, "org")
        repositories = await hub_queries.repository_names(conn)
    problems = [
        Problem(
            f"{record.kind} {record.name!r}",
            "this name could read as a registry host or breaks the naming rules; the account"
            " cannot sign in and its repositories are not served: recreate it under a valid"
            " name (lowercase letters, digits, single '-' or '_')",
        )
        for record in records
        if not is_namespace_name(record.name)
    ]
    problems += [
        Problem(f"repository {name!r}", "not a valid repository name on this hub; not served")
        for name in repositories
        if repository_of_path(name) != name
    ]
    return problems


async def _check_storage(settings: Settings) -> list[Problem]:
    try:
        driver = storage_driver(settings)
    except (UnknownStorageError, ValueError) as exc:
        return [Problem("storage", str(exc))]
    check = getattr(driver, "check", None)  # remote drivers can say whether they reach home
    if check is not None:
        try:
            await check()
        except StorageDriverError as exc:
            return [Problem("storage", str(exc))]
    return []


async def _check_database(settings: Settings) -> list[Problem]:
    url = settings.database_url or ""
    try:
        make_url(url)
        engine = create_engine(url)
    except (ArgumentError, ValueError, ImportError) as exc:
        return [Problem("database_url", f"not a usable SQLAlchemy URL: {exc}")]
    try:
        await check_schema(engine)
        problems = await _check_sealed_keys(settings, engine)
        if settings.auth_enabled:
            problems += await _check_names(engine)
        return problems
    except SchemaBehindError as exc:
        # Keys are checked on a current schema only; on SQLite the hub migrates at start.
        if not settings.auto_migrate:
            return [Problem("database_url", str(exc))]
    except (SQLAlchemyError, OSError) as exc:
        return [Problem("database_url", f"cannot connect: {exc}")]
    finally:
        await engine.dispose()
    return []


def _check_proxy(settings: Settings) -> list[Problem]:
    """The mirror names a proxy namespace, and every sealed upstream password opens."""
    problems = []
    names = {namespace.name for namespace in settings.proxy_namespaces}
    if settings.proxy_mirror is not None and settings.proxy_mirror not in names:
        problems.append(Problem("proxy.mirror", "names no proxy namespace"))
    if settings.proxy_tag_ttl < 0:
        problems.append(Problem("proxy.tag_ttl", "must not be negative"))
    secret = configured_secret(settings)
    for namespace in settings.proxy_namespaces:
        if namespace.sealed_password is None:
            continue
        where = f"proxy.namespaces.{namespace.name}.password"
        if secret is None:
            problems.append(Problem(where, "sealed, but the hub has no key-encryption secret yet"))
            continue
        try:
            CredentialSealer(secret).open(namespace.name, namespace.sealed_password)
        except SealedCredentialError as exc:
            problems.append(Problem(where, str(exc)))
    return problems


async def check_settings(settings: Settings) -> list[Problem]:
    """Every mistake found in `settings` (empty when the hub can start).

    Args:
        settings: resolved settings (`load_settings`).
    """
    problems = _check_values(settings)
    problems += _check_proxy(settings)
    problems += await _check_storage(settings)
    if settings.is_sqlite and not settings.data_dir.exists():
        return problems  # the hub creates the data directory and the database on start
    problems += await _check_database(settings)
    return problems
