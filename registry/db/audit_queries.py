"""Query functions for the audit log and the failed-login counters used for throttling."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.account_queries import now
from registry.db.tables import audit_events, login_failures

__all__ = ["AuditRecord"]


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


_ADD_EVENT = audit_events.insert()  # built once: one row per push makes it hot


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


async def count_failures(
    conn: AsyncConnection, account: str, address: str, since: datetime
) -> tuple[int, int]:
    """Failed logins since `since`: (for the account, from the address)."""
    by_account = await conn.scalar(
        select(func.count())
        .select_from(login_failures)
        .where(login_failures.c.account == account, login_failures.c.failed_at >= since)
    )
    by_address = await conn.scalar(
        select(func.count())
        .select_from(login_failures)
        .where(login_failures.c.address == address, login_failures.c.failed_at >= since)
    )
    return int(by_account or 0), int(by_address or 0)


async def clear_failures(conn: AsyncConnection, account: str, before: datetime) -> None:
    """Forget the account's failures after a good login, and everyone's older than `before`."""
    await conn.execute(delete(login_failures).where(login_failures.c.account == account))
    await conn.execute(delete(login_failures).where(login_failures.c.failed_at < before))
