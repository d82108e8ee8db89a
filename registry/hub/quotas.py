"""Storage quotas of namespaces: the limits, and the usage shown beside them.

A quota caps the bytes a namespace's repositories use: the distinct blobs their stored
manifests reference plus those manifests' own bytes (`registry.db.quota_queries` says exactly
what counts). A manifest PUT that would take the namespace past its limit is refused with
DENIED; the refusal lives in the manifest write (`registry.services.manifests`), in the push's
own transaction. Usage drops when manifests go: deleted by digest, or untagged and then
collected by the garbage collector.

Scope: showing, listing, setting and removing quotas, with the audit log. Who may do so is the
API's and the command line's business (hub admins set; a namespace's managers see).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.db import immutability_queries, quota_queries
from registry.errors import InvalidRequestError, NotFoundError
from registry.hub.audit import AuditLog

__all__ = ["QuotaService", "QuotaView"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuotaView:
    """A namespace's quota (None: it has none) and the bytes it uses now."""

    namespace: str
    limit_bytes: int | None
    used_bytes: int

    @property
    def percent(self) -> float | None:
        """Usage as a percentage of the limit (None without a limit; a zero limit with any
        usage is full)."""
        if self.limit_bytes is None:
            return None
        if self.limit_bytes == 0:
            return 100.0 if self.used_bytes else 0.0
        return 100.0 * self.used_bytes / self.limit_bytes


class QuotaService:
    """Namespace quotas on the hub database.

    Args:
        engine: the hub database.
        audit: where quota changes are recorded.
    """

    def __init__(self, engine: AsyncEngine, audit: AuditLog) -> None:
        self.engine = engine
        self.audit = audit

    async def show(self, namespace: str) -> QuotaView:
        """The namespace's quota and usage.

        Raises:
            NotFoundError: no such namespace.
        """
        async with self.engine.connect() as conn:
            await _require(conn, namespace)
            return await _view(conn, namespace)

    async def all(self) -> list[QuotaView]:
        """Every namespace that has a quota, by name, with its usage."""
        async with self.engine.connect() as conn:
            return [
                QuotaView(row.namespace, row.limit_bytes, await quota_queries.usage(conn, name))
                for row in await quota_queries.quotas(conn)
                for name in [row.namespace]
            ]

    async def set(
        self, namespace: str, limit_bytes: int | None, *, actor: str, address: str = ""
    ) -> QuotaView:
        """Set the namespace's limit in bytes, or remove its quota (None).

        Lowering a limit below the usage refuses further growth; nothing stored is removed.

        Raises:
            InvalidRequestError: a negative limit.
            NotFoundError: no such namespace.
        """
        if limit_bytes is not None and limit_bytes < 0:
            raise InvalidRequestError(
                "limit_bytes must be at least 0 (or null: no quota)", field="limit_bytes"
            )
        async with self.engine.begin() as conn:
            await _require(conn, namespace)
            if limit_bytes is None:
                await quota_queries.remove_quota(conn, namespace)
            else:
                await quota_queries.set_quota(conn, namespace, limit_bytes)
        if limit_bytes is None:
            await self.audit.record(actor, "quota-remove", namespace, address)
            logger.info("quota of %s removed", namespace)
        else:
            await self.audit.record(actor, "quota-set", namespace, address, limit_bytes=limit_bytes)
            logger.info("quota of %s set to %d bytes", namespace, limit_bytes)
        return await self.show(namespace)


async def _view(conn: AsyncConnection, namespace: str) -> QuotaView:
    row = await quota_queries.quota(conn, namespace)
    used = await quota_queries.usage(conn, namespace)
    return QuotaView(namespace, row.limit_bytes if row else None, used)


async def _require(conn: AsyncConnection, namespace: str) -> None:
    """Raise unless `namespace` names a namespace (an account's, or one holding repositories
    on an open registry)."""
    if "/" in namespace or not namespace:
        raise InvalidRequestError(f"{namespace!r} is not a namespace", field="namespace")
    if not await immutability_queries.scope_exists(conn, namespace):
        raise NotFoundError(f"no namespace {namespace!r}", name=namespace)
