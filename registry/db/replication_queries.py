"""Queries of replication rules, runs and the queue of pushes to replicate.

A scheduled rule is claimed for one period by one conditional UPDATE of its `next_run_at`
(`claim_due`), which the database serialises: of all replicas checking at once, one moves it
and runs the rule. Queued pushes are claimed with a lease (`claim_pushes`), like webhook
deliveries: a replica that dies mid-run leaves them to another once the lease expires.

Scope: queries only; returns plain values, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    DateTime,
    String,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.hotwrites import hot
from registry.db.queries import as_utc
from registry.db.tables import replication_pushes as p
from registry.db.tables import replication_rules as r
from registry.db.tables import replication_runs as runs_table

__all__ = [
    "RuleRow",
    "RunRow",
    "claim_due",
    "claim_pushes",
    "delete_pushes",
    "delete_rule",
    "finish_run",
    "insert_rule",
    "interrupt_runs",
    "note_push",
    "release_pushes",
    "rule_by_name",
    "rules",
    "run_by_id",
    "runs",
    "set_enabled",
    "start_run",
]


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A stored rule (the password as sealed text)."""

    id: int
    name: str
    direction: str
    remote_url: str
    username: str | None
    password: str | None
    tls_verify: bool
    ca_pem: str | None
    repositories: str
    tags: str
    destination: str
    on_push: bool
    schedule_minutes: int | None
    next_run_at: datetime | None
    enabled: bool
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RunRow:
    """One recorded run of a rule."""

    id: int
    rule_id: int
    trigger: str
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    copied: int
    skipped: int
    failed: int
    retries: int
    errors: str  # JSON list


_RULE_COLUMNS = (
    r.c.id, r.c.name, r.c.direction, r.c.remote_url, r.c.username, r.c.password,
    r.c.tls_verify, r.c.ca_pem, r.c.repositories, r.c.tags, r.c.destination, r.c.on_push,
    r.c.schedule_minutes, r.c.next_run_at, r.c.enabled, r.c.created_by, r.c.created_at,
)  # fmt: skip


def _rule(row: Sequence[object]) -> RuleRow:
    values = list(row)
    values[13] = None if values[13] is None else as_utc(values[13])  # type: ignore[arg-type]
    values[16] = as_utc(values[16])  # type: ignore[arg-type]
    values[6], values[11], values[14] = bool(values[6]), bool(values[11]), bool(values[14])
    return RuleRow(*values)  # type: ignore[arg-type]


async def insert_rule(conn: AsyncConnection, **values: object) -> int:
    """Store a rule; its id (IntegrityError when the name is taken)."""
    result = await conn.execute(r.insert().values(**values))
    return int(result.inserted_primary_key[0])


async def rules(conn: AsyncConnection) -> list[RuleRow]:
    """Every rule, by name."""
    return [_rule(row) for row in await conn.execute(select(*_RULE_COLUMNS).order_by(r.c.name))]


async def rule_by_name(conn: AsyncConnection, name: str) -> RuleRow | None:
    """The rule called `name`, else (for digits) the rule with that id, else None."""
    row = (await conn.execute(select(*_RULE_COLUMNS).where(r.c.name == name))).first()
    if row is None and name.isdigit() and len(name) < 10:
        row = (await conn.execute(select(*_RULE_COLUMNS).where(r.c.id == int(name)))).first()
    return None if row is None else _rule(row)


async def set_enabled(conn: AsyncConnection, rule_id: int, enabled: bool) -> None:
    await conn.execute(update(r).where(r.c.id == rule_id).values(enabled=enabled))


async def delete_rule(conn: AsyncConnection, rule_id: int) -> None:
    await conn.execute(delete(runs_table).where(runs_table.c.rule_id == rule_id))
    await conn.execute(delete(r).where(r.c.id == rule_id))


async def claim_due(conn: AsyncConnection, now: datetime) -> list[RuleRow]:
    """The enabled scheduled rules due at `now` that this caller moved to their next period."""
    due = [
        _rule(row)
        for row in await conn.execute(
            select(*_RULE_COLUMNS).where(
                r.c.enabled.is_(True),
                r.c.schedule_minutes.is_not(None),
                r.c.next_run_at <= now,
            )
        )
    ]
    claimed = []
    for rule in due:
        assert rule.schedule_minutes is not None and rule.next_run_at is not None
        result = await conn.execute(
            update(r)
            .where(r.c.id == rule.id, r.c.next_run_at == rule.next_run_at)
            .values(next_run_at=now + timedelta(minutes=rule.schedule_minutes))
        )
        if result.rowcount:
            claimed.append(rule)
    return claimed


async def start_run(
    conn: AsyncConnection, rule_id: int, trigger: str, started_by: str, now: datetime
) -> int:
    result = await conn.execute(
        runs_table.insert().values(
            rule_id=rule_id,
            trigger=trigger,
            started_by=started_by,
            started_at=now,
            status="running",
            copied=0,
            skipped=0,
            failed=0,
            retries=0,
            errors="[]",
        )
    )
    return int(result.inserted_primary_key[0])


async def interrupt_runs(conn: AsyncConnection, rule_id: int, now: datetime) -> None:
    """Mark the rule's runs still `running` as `interrupted` (their process died: the caller
    holds the rule's lease, so none of them is running any more)."""
    await conn.execute(
        update(runs_table)
        .where(runs_table.c.rule_id == rule_id, runs_table.c.status == "running")
        .values(status="interrupted", finished_at=now)
    )


async def finish_run(conn: AsyncConnection, run_id: int, now: datetime, **outcome: object) -> None:
    """Record a run's end: `status`, `copied`, `skipped`, `failed`, `retries`, `errors`."""
    await conn.execute(
        update(runs_table).where(runs_table.c.id == run_id).values(finished_at=now, **outcome)
    )


_RUN_COLUMNS = (
    runs_table.c.id, runs_table.c.rule_id, runs_table.c.trigger, runs_table.c.started_by,
    runs_table.c.started_at, runs_table.c.finished_at, runs_table.c.status,
    runs_table.c.copied, runs_table.c.skipped, runs_table.c.failed, runs_table.c.retries,
    runs_table.c.errors,
)  # fmt: skip


def _run(row: Sequence[object]) -> RunRow:
    values = list(row)
    values[4] = as_utc(values[4])  # type: ignore[arg-type]
    values[5] = None if values[5] is None else as_utc(values[5])  # type: ignore[arg-type]
    return RunRow(*values)  # type: ignore[arg-type]


async def runs(conn: AsyncConnection, rule_id: int | None, limit: int) -> list[RunRow]:
    """The latest runs (of one rule, or of all), newest first."""
    statement = select(*_RUN_COLUMNS).order_by(runs_table.c.id.desc()).limit(limit)
    if rule_id is not None:
        statement = statement.where(runs_table.c.rule_id == rule_id)
    return [_run(row) for row in await conn.execute(statement)]


async def run_by_id(conn: AsyncConnection, run_id: int) -> RunRow | None:
    row = (await conn.execute(select(*_RUN_COLUMNS).where(runs_table.c.id == run_id))).first()
    return None if row is None else _run(row)


# Built once with bind parameters: every push by tag runs it.
_NOTE_PUSH = hot(
    insert(p).from_select(
        ["repository", "tag", "created_at"],
        select(
            bindparam("repository", type_=String),
            bindparam("tag", type_=String),
            bindparam("now", type_=DateTime(timezone=True)),
        ).where(
            exists().where(r.c.direction == "push", r.c.on_push.is_(True), r.c.enabled.is_(True))
        ),
    )
)


async def note_push(conn: AsyncConnection, repository: str, tag: str, now: datetime) -> None:
    """Queue a push by tag, when some enabled push rule copies on push (one statement)."""
    await conn.execute(_NOTE_PUSH, {"repository": repository, "tag": tag, "now": now})


async def claim_pushes(
    conn: AsyncConnection, holder: str, now: datetime, ttl: timedelta, limit: int
) -> list[tuple[int, str, str]]:
    """Lease up to `limit` queued pushes to `holder`: (id, repository, tag), oldest first."""
    free = or_(p.c.lease_until.is_(None), p.c.lease_until < now)
    ids = [
        row[0]
        for row in await conn.execute(select(p.c.id).where(free).order_by(p.c.id).limit(limit))
    ]
    if not ids:
        return []
    await conn.execute(
        update(p).where(p.c.id.in_(ids), free).values(lease_owner=holder, lease_until=now + ttl)
    )
    rows = await conn.execute(
        select(p.c.id, p.c.repository, p.c.tag)
        .where(p.c.id.in_(ids), p.c.lease_owner == holder)
        .order_by(p.c.id)
    )
    return [(int(i), str(repo), str(tag)) for i, repo, tag in rows]


async def delete_pushes(conn: AsyncConnection, ids: Sequence[int]) -> None:
    if ids:
        await conn.execute(delete(p).where(p.c.id.in_(ids)))


async def release_pushes(conn: AsyncConnection, ids: Sequence[int], retry_at: datetime) -> None:
    """Hand pushes back, to be claimed again from `retry_at`."""
    if ids:
        await conn.execute(
            update(p).where(p.c.id.in_(ids)).values(lease_owner=None, lease_until=retry_at)
        )
