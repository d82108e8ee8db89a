"""Queries of webhooks and their outbox: record events, claim and settle deliveries.

`record_event` runs inside the transaction of the change it reports (a manifest PUT, a delete):
one INSERT ... SELECT writes a delivery row per subscribed webhook, nothing when there is none.

Claiming selects due, unleased rows (PostgreSQL with FOR UPDATE SKIP LOCKED, so replicas claim
disjoint rows without waiting; on SQLite the transaction holds the database's write lock), stamps
a fresh lease owner on those still due, then reads the rows holding that owner. An idle poll
reads one index and writes nothing. A lease
that expires (its process died mid-delivery) makes the row due again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.hotwrites import hot
from registry.db.tables import webhook_deliveries as d
from registry.db.tables import webhooks as w
from registry.webhooks.events import Event

__all__ = [
    "ClaimedDelivery",
    "DeliveryRecord",
    "Outcome",
    "WebhookRecord",
    "claim_due",
    "delete_webhook",
    "deliveries",
    "insert_webhook",
    "namespaces_subscribed",
    "prune_settled",
    "record_event",
    "redeliver",
    "settle",
    "webhooks_of",
]

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    id: int
    namespace: str
    repository: str | None
    url: str
    events: tuple[str, ...]
    payload_format: str
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    webhook_id: int
    event_id: str
    event_type: str
    state: str
    attempts: int
    response_code: int | None
    latency_ms: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    webhook_id: int
    namespace: str
    url: str
    secret: str
    payload_format: str
    event_id: str
    event: str
    attempts: int


def _events_column(events: frozenset[str]) -> str:
    return "," + ",".join(sorted(events)) + ","


def _webhook(row: object) -> WebhookRecord:
    id_, namespace, repository, url, events, fmt, created_at, created_by = row  # type: ignore[misc]
    return WebhookRecord(
        id_,
        namespace,
        repository,
        url,
        tuple(e for e in events.split(",") if e),
        fmt,
        created_at,
        created_by,
    )


async def insert_webhook(
    conn: AsyncConnection,
    *,
    namespace: str,
    repository: str | None,
    url: str,
    events: frozenset[str],
    payload_format: str,
    secret: str,
    now: datetime,
    actor: str,
) -> int:
    result = await conn.execute(
        insert(w)
        .values(
            namespace=namespace,
            repository=repository,
            url=url,
            events=_events_column(events),
            payload_format=payload_format,
            secret=secret,
            created_at=now,
            created_by=actor,
        )
        .returning(w.c.id)
    )
    return int(result.scalar_one())


_WEBHOOK_COLUMNS = (
    w.c.id,
    w.c.namespace,
    w.c.repository,
    w.c.url,
    w.c.events,
    w.c.payload_format,
    w.c.created_at,
    w.c.created_by,
)


async def webhooks_of(conn: AsyncConnection, namespace: str) -> list[WebhookRecord]:
    rows = await conn.execute(
        select(*_WEBHOOK_COLUMNS).where(w.c.namespace == namespace).order_by(w.c.id)
    )
    return [_webhook(row) for row in rows]


async def delete_webhook(conn: AsyncConnection, namespace: str, webhook_id: int) -> bool:
    # Deliveries go with it (also without SQLite's foreign-key enforcement).
    owned = select(w.c.id).where(w.c.id == webhook_id, w.c.namespace == namespace)
    await conn.execute(delete(d).where(d.c.webhook_id.in_(owned.scalar_subquery())))
    result = await conn.execute(delete(w).where(w.c.id == webhook_id, w.c.namespace == namespace))
    return bool(result.rowcount)


async def namespaces_subscribed(conn: AsyncConnection, event_type: str) -> frozenset[str]:
    """The namespaces with a webhook subscribed to `event_type`."""
    rows = await conn.execute(
        select(w.c.namespace).where(w.c.events.like(f"%,{event_type},%")).distinct()
    )
    return frozenset(row[0] for row in rows)


# Built once with bind parameters: every push by tag runs it, so it must not be compiled again.
_RECORD_EVENT = hot(
    insert(d).from_select(
        [
            "webhook_id",
            "event_id",
            "event_type",
            "event",
            "created_at",
            "state",
            "attempts",
            "next_attempt_at",
        ],
        select(
            w.c.id,
            bindparam("event_id", type_=String),
            bindparam("event_type", type_=String),
            bindparam("event", type_=String),
            bindparam("now", type_=DateTime(timezone=True)),
            literal(PENDING, String),
            literal(0, Integer),
            bindparam("now", type_=DateTime(timezone=True)),
        ).where(
            w.c.namespace == bindparam("namespace"),
            or_(w.c.repository.is_(None), w.c.repository == bindparam("repository")),
            w.c.events.like(bindparam("subscribed")),
        ),
    )
)


async def record_event(conn: AsyncConnection, event: Event, now: datetime) -> int:
    """Write one pending delivery of `event` per webhook subscribed to it; how many."""
    result = await conn.execute(
        _RECORD_EVENT,
        {
            "event_id": str(uuid.uuid4()),
            "event_type": event.type.value,
            "event": event.to_json(),
            "now": now,
            "namespace": event.repository.split("/", 1)[0],
            "repository": event.repository,
            "subscribed": f"%,{event.type.value},%",
        },
    )
    return int(result.rowcount)


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return and_(
        d.c.state == PENDING,
        d.c.next_attempt_at <= now,
        or_(d.c.lease_until.is_(None), d.c.lease_until < now),
    )


async def claim_due(
    conn: AsyncConnection, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due deliveries to a fresh owner and return them."""
    candidates = select(d.c.id).where(_due(now)).order_by(d.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = [row[0] for row in await conn.execute(candidates)]
    if not ids:
        return []  # an idle poll writes nothing
    owner = str(uuid.uuid4())
    # The due condition is checked again: a row another process claimed since is left alone.
    await conn.execute(
        update(d)
        .where(d.c.id.in_(ids), _due(now))
        .values(lease_owner=owner, lease_until=lease_until)
    )
    rows = await conn.execute(
        select(
            d.c.id,
            d.c.webhook_id,
            w.c.namespace,
            w.c.url,
            w.c.secret,
            w.c.payload_format,
            d.c.event_id,
            d.c.event,
            d.c.attempts,
        )
        .join(w, w.c.id == d.c.webhook_id)
        .where(d.c.lease_owner == owner, d.c.state == PENDING)
        .order_by(d.c.id)
    )
    return [ClaimedDelivery(*row) for row in rows]


@dataclass(frozen=True, slots=True)
class Outcome:
    """An attempt's result, to record on its delivery."""

    delivery_id: int
    state: str
    attempts: int
    response_code: int | None
    latency_ms: int | None
    error: str | None
    delivered_at: datetime | None
    next_attempt_at: datetime


_SETTLE = (
    update(d)
    .where(d.c.id == bindparam("o_id"))
    .values(
        state=bindparam("o_state"),
        attempts=bindparam("o_attempts"),
        response_code=bindparam("o_code"),
        latency_ms=bindparam("o_latency"),
        last_error=bindparam("o_error"),
        delivered_at=bindparam("o_delivered"),
        next_attempt_at=bindparam("o_next"),
        lease_owner=None,
        lease_until=None,
    )
)


async def settle(conn: AsyncConnection, outcomes: Sequence[Outcome]) -> None:
    """Record attempts' outcomes and release their leases (one statement, many rows)."""
    await conn.execute(
        _SETTLE,
        [
            {
                "o_id": o.delivery_id,
                "o_state": o.state,
                "o_attempts": o.attempts,
                "o_code": o.response_code,
                "o_latency": o.latency_ms,
                "o_error": o.error,
                "o_delivered": o.delivered_at,
                "o_next": o.next_attempt_at,
            }
            for o in outcomes
        ],
    )


async def prune_settled(conn: AsyncConnection, before: datetime) -> int:
    """Delete delivered and failed deliveries created before `before`; how many went."""
    result = await conn.execute(
        delete(d).where(d.c.state.in_((DELIVERED, FAILED)), d.c.created_at < before)
    )
    return int(result.rowcount or 0)


async def deliveries(
    conn: AsyncConnection, namespace: str, webhook_id: int, limit: int
) -> list[DeliveryRecord] | None:
    """The newest deliveries of a webhook, or None when the namespace has no such webhook."""
    owned = await conn.scalar(
        select(w.c.id).where(w.c.id == webhook_id, w.c.namespace == namespace)
    )
    if owned is None:
        return None
    rows = await conn.execute(
        select(
            d.c.id,
            d.c.webhook_id,
            d.c.event_id,
            d.c.event_type,
            d.c.state,
            d.c.attempts,
            d.c.response_code,
            d.c.latency_ms,
            d.c.last_error,
            d.c.created_at,
            d.c.delivered_at,
            d.c.next_attempt_at,
        )
        .where(d.c.webhook_id == webhook_id)
        .order_by(d.c.id.desc())
        .limit(limit)
    )
    return [DeliveryRecord(*row) for row in rows]


async def redeliver(
    conn: AsyncConnection, namespace: str, webhook_id: int, delivery_id: int, now: datetime
) -> int | None:
    """Queue the delivery's event again as a new delivery (same event id); its id, or None."""
    source = (
        select(d.c.webhook_id, d.c.event_id, d.c.event_type, d.c.event)
        .join(w, w.c.id == d.c.webhook_id)
        .where(d.c.id == delivery_id, d.c.webhook_id == webhook_id, w.c.namespace == namespace)
    )
    row = (await conn.execute(source)).first()
    if row is None:
        return None
    result = await conn.execute(
        insert(d)
        .values(
            webhook_id=row[0],
            event_id=row[1],
            event_type=row[2],
            event=row[3],
            created_at=now,
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
        )
        .returning(d.c.id)
    )
    return int(result.scalar_one())


async def lock_webhooks(conn: AsyncConnection) -> None:
    """Hold off other writers of `webhooks` until this transaction ends (PostgreSQL; SQLite
    has one writer)."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("LOCK TABLE webhooks IN SHARE ROW EXCLUSIVE MODE")


async def stored_secrets(conn: AsyncConnection) -> list[tuple[int, str, str]]:
    """Every webhook's id, namespace and sealed secret, by id."""
    rows = await conn.execute(select(w.c.id, w.c.namespace, w.c.secret).order_by(w.c.id))
    return [(row[0], row[1], row[2]) for row in rows]


async def replace_secret(conn: AsyncConnection, webhook_id: int, stored: str) -> None:
    await conn.execute(update(w).where(w.c.id == webhook_id).values(secret=stored))
