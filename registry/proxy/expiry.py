"""Expiry of cached content: tags of a proxy namespace not pulled for `expire_days` go.

A cached tag's age is counted from its last pull (`tags.pulled_at`, written by the pull
counter), else from when it was cached or last moved. Expiry deletes each old tag with a
statement that checks its age again, so a pull recorded meanwhile keeps it. The manifests left
untagged, and the blobs only they referenced, are then the garbage collector's to reclaim
(`registry.services.gc`): a blob that a pushed repository also references stays linked there
and stays stored. A later pull of an expired tag fetches it from the upstream again.

It runs at the start of `berth-hub gc` and, in serving hubs, every `CHECK_SECONDS`: every
replica checks, and the one that takes the database lease `proxy-expiry` runs it (as
scheduled retention runs are kept to one replica at a time).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import retention_queries
from registry.db.queries import as_utc
from registry.db.tables import repositories, tags
from registry.hub.pulls import PullCounter
from registry.proxy.config import ProxyNamespace

logger = logging.getLogger(__name__)

__all__ = ["CHECK_SECONDS", "ExpiredTag", "expire_cached", "expire_once", "run_expiry_schedule"]

CHECK_SECONDS = 3600.0  # how often a serving hub looks for expired tags
LEASE = "proxy-expiry"
LEASE_TTL = timedelta(minutes=10)  # longer than any run; a crashed holder frees it after this


@dataclass(frozen=True, slots=True)
class ExpiredTag:
    """A cached tag that expired (or, in a dry run, would)."""

    repository: str
    tag: str
    digest: str
    last_used: datetime  # its last pull, else when it was cached


async def expire_cached(
    engine: AsyncEngine,
    namespaces: Iterable[ProxyNamespace],
    now: datetime,
    *,
    dry_run: bool = False,
) -> list[ExpiredTag]:
    """Delete the tags of every namespace with `expire_days` not pulled for that long.

    Returns:
        The tags deleted (a dry run deletes nothing and returns the candidates).
    """
    expired: list[ExpiredTag] = []
    for namespace in namespaces:
        if namespace.expire_days is None:
            continue
        cutoff = now - timedelta(days=namespace.expire_days)
        last_used = func.coalesce(tags.c.pulled_at, tags.c.updated_at)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        repositories.c.id,
                        repositories.c.name,
                        tags.c.name,
                        tags.c.manifest_digest,
                        last_used,
                    )
                    .select_from(tags.join(repositories, repositories.c.id == tags.c.repository_id))
                    .where(
                        repositories.c.name.startswith(namespace.name + "/", autoescape=True),
                        last_used < cutoff,
                    )
                    .order_by(repositories.c.name, tags.c.name)
                )
            ).all()
        for repo_id, repository, tag, digest, used in rows:
            found = ExpiredTag(repository, tag, digest, as_utc(used))
            if dry_run:
                expired.append(found)
                continue
            async with engine.begin() as conn:
                deleted = await conn.execute(
                    delete(tags).where(
                        tags.c.repository_id == repo_id,
                        tags.c.name == tag,
                        tags.c.manifest_digest == digest,
                        func.coalesce(tags.c.pulled_at, tags.c.updated_at) < cutoff,
                    )
                )
            if deleted.rowcount:
                expired.append(found)
                logger.info("expired cached tag %s:%s (last used %s)", repository, tag, used)
    return expired


async def run_expiry_schedule(
    engine: AsyncEngine,
    namespaces: Iterable[ProxyNamespace],
    pulls: PullCounter | None,
    interval: float = CHECK_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Expire cached tags every `interval` seconds on one replica at a time (cancel to stop)."""
    holder = uuid.uuid4().hex
    namespaces = tuple(namespaces)
    while True:
        await asyncio.sleep(interval)
        try:
            await expire_once(engine, namespaces, pulls, holder, clock())
        except Exception:
            logger.exception("expiring cached proxy tags failed")


async def expire_once(
    engine: AsyncEngine,
    namespaces: Iterable[ProxyNamespace],
    pulls: PullCounter | None,
    holder: str,
    now: datetime,
) -> list[ExpiredTag] | None:
    """One scheduled run, if `holder` takes the lease (None: another replica holds it)."""
    async with engine.begin() as conn:
        held = await retention_queries.acquire_lease(conn, LEASE, holder, now, LEASE_TTL)
    if not held:
        return None
    try:
        if pulls is not None:
            await pulls.flush()  # this process's latest pulls keep their tags
        return await expire_cached(engine, namespaces, now)
    finally:
        async with engine.begin() as conn:
            await retention_queries.release_lease(conn, LEASE, holder, now)
