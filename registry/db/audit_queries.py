"""Query functions for the audit log and the failed-login counters used for throttling."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.account_queries import now
from registry.db.hotwrites import hot
from registry.db.tables import audit_events, login_failures

__all__ = ["AuditRecord", "FailureCounts"]


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    created_at: datetime
    actor: str
    action: str
    target: str
    address: str
    detail: dict[str, Any]


async def add_event(
    conn: AsyncConnection,
    actor: str,
    action: str,
    target: str,
    address: str,
    detail: dict[str, Any],
) -> None:
    await conn.execute(
        _ADD_EVENT,
        {
            "created_at": now(),
            "actor": actor,
            "action": action,
            "target": target,
            "address": address,
            "detail": json.dumps(detail, sort_keys=True),
        },
    )


_ADD_EVENT = hot(audit_events.insert())  # built once: one row per push makes it hot


async def list_events(
    conn: AsyncConnection, *, limit: int, before: int | None, action: str | None
) -> list[AuditRecord]:
    """Newest first; `before` is an event id to page on."""
    stmt = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(audit_events.c.id < before)
    if action:
        stmt = stmt.where(audit_events.c.action == action)
    return [
        AuditRecord(
            r.id, r.created_at, r.actor, r.action, r.target, r.address, json.loads(r.detail)
        )
        for r in await conn.execute(stmt)
    ]


async def add_failure(conn: AsyncConnection, account: str, address: str) -> None:
    await conn.execute(
        login_failures.insert().values(account=account, address=address, failed_at=now())
    )


@dataclass(frozen=True, slots=True)
class FailureCounts:
    """Failed logins in a window: for one account from one address, for the account, from
    the address."""

    pair: int
    account: int
    address: int


async def clear_failures(conn: AsyncConnection, account: str, address: str) -> None:
    """Forget one address's failures on an account (after a good login from it)."""
    await conn.execute(
        delete(login_failures).where(
            login_failures.c.account == account, login_failures.c.address == address
        )
    )


async def prune_failures(conn: AsyncConnection, before: datetime) -> None:
    """Forget every failure older than `before` (out of every window)."""
    await conn.execute(delete(login_failures).where(login_failures.c.failed_at < before))
