"""The audit log: logins, pushes, deletes and permission changes, readable by admins.

Secrets never enter it: callers pass names, ids and scopes, not passwords or tokens.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.db import audit_queries
from registry.db.audit_queries import AuditRecord
from registry.db.writer import EngineWriter, Writer

logger = logging.getLogger(__name__)

__all__ = ["CLI_ACTOR", "AuditLog"]

CLI_ACTOR = "(cli)"  # actor recorded for changes made with `berth-hub` on the data directory


class AuditLog:
    """Appends events to the `audit_events` table and reads them back.

    Args:
        engine: the hub database.
        writer: runs the appends (default: a transaction each on `engine`).
    """

    def __init__(self, engine: AsyncEngine, writer: Writer | None = None) -> None:
        self.engine = engine
        self.writer = writer or EngineWriter(engine)

    async def record(
        self, actor: str, action: str, target: str, address: str = "", **detail: Any
    ) -> None:
        """Append one event; a failure to write is logged, not raised, so the action stands."""
        try:
            await self.writer.run(
                lambda conn: audit_queries.add_event(
                    conn, actor, action, target, address or "", detail
                )
            )
        except Exception:
            logger.exception("could not write audit event %s on %s", action, target)

    async def add(
        self,
        conn: AsyncConnection,
        actor: str,
        action: str,
        target: str,
        address: str = "",
        **detail: Any,
    ) -> None:
        """Append one event in the caller's transaction: it stands or falls with the change."""
        await audit_queries.add_event(conn, actor, action, target, address or "", detail)

    async def events(
        self, *, limit: int = 100, before: int | None = None, action: str | None = None
    ) -> list[AuditRecord]:
        """Events, newest first."""
        async with self.engine.connect() as conn:
            return await audit_queries.list_events(conn, limit=limit, before=before, action=action)
