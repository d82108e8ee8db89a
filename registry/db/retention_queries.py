"""Retention policies, their runs, tags' last pulls, and leases.

A lease is a row naming its holder and expiry: `acquire_lease` takes it with one conditional
UPDATE (free, expired, or already ours), which the database serialises, so of all replicas
at most one holds a lease at a time.

Scope: queries only; returns plain values, never ORM rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.auth.scopes import namespace_of
from registry.db.queries import as_utc
from registry.db.tables import leases, repositories, retention_policies, retention_runs, tags
from registry.hub.retention_policy import TagState

__all__ = [
    "PolicyRow",
    "RunRow",
    "acquire_lease",
    "add_run",
    "delete_policy",
    "due_scopes",
    "effective_policy",
    "policy_row",
    "record_pulls",
    "release_lease",
    "remove_tags",
    "repositories_following",
    "runs",
    "set_next_run",
    "set_policy",
    "tag_states",
]


@dataclass(frozen=True, slots=True)
class PolicyRow:
    """A stored retention policy: its scope, document (JSON text) and schedule."""

    scope: str
    document: str
    schedule_hours: int | None
    next_run_at: datetime | None
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RunRow:
    """One recorded retention run."""

    id: int
    repository: str
    started_by: str
    dry_run: bool
    started_at: datetime
    finished_at: datetime
    removed: str  # JSON list of tag names
    kept: int


_POLICY_COLUMNS = (
    retention_policies.c.scope,
    retention_policies.c.document,
    retention_policies.c.schedule_hours,
    retention_policies.c.next_run_at,
    retention_policies.c.updated_by,
    retention_policies.c.updated_at,
)


def _policy(row: Iterable[object]) -> PolicyRow:
    scope, document, hours, next_run, by, at = row
    return PolicyRow(
        str(scope),
        str(document),
        hours,  # type: ignore[arg-type]
        None if next_run is None else as_utc(next_run),  # type: ignore[arg-type]
        str(by),
        as_utc(at),  # type: ignore[arg-type]
    )


async def set_policy(
    conn: AsyncConnection,
    scope: str,
    document: str,
    schedule_hours: int | None,
    next_run_at: datetime | None,
    actor: str,
    now: datetime,
) -> None:
    """Store (replace) the policy of `scope`."""
    await conn.execute(delete(retention_policies).where(retention_policies.c.scope == scope))
    await conn.execute(
        retention_policies.insert().values(
            scope=scope,
            document=document,
            schedule_hours=schedule_hours,
            next_run_at=next_run_at,
            updated_by=actor,
            updated_at=now,
        )
    )


async def delete_policy(conn: AsyncConnection, scope: str) -> bool:
    """Remove the policy of `scope`; False when it had none."""
    result = await conn.execute(
        delete(retention_policies).where(retention_policies.c.scope == scope)
    )
    return bool(result.rowcount)


async def policy_row(conn: AsyncConnection, scope: str) -> PolicyRow | None:
    """The policy set on exactly `scope`, or None."""
    row = (
        await conn.execute(select(*_POLICY_COLUMNS).where(retention_policies.c.scope == scope))
    ).first()
    return None if row is None else _policy(row)


async def effective_policy(conn: AsyncConnection, repository: str) -> PolicyRow | None:
    """The repository's own policy, else its namespace's, else None."""
    rows = [
        _policy(row)
        for row in await conn.execute(
            select(*_POLICY_COLUMNS).where(
                retention_policies.c.scope.in_([repository, namespace_of(repository)])
            )
        )
    ]
    own = [row for row in rows if row.scope == repository]
    return (own or rows or [None])[0]


async def tag_states(conn: AsyncConnection, repository: str) -> list[TagState]:
    """Every tag of `repository` with its digest, push time and last pull."""
    rows = await conn.execute(
        select(tags.c.name, tags.c.manifest_digest, tags.c.updated_at, tags.c.pulled_at)
        .select_from(tags.join(repositories, repositories.c.id == tags.c.repository_id))
        .where(repositories.c.name == repository)
    )
    return [
        TagState(name, digest, as_utc(pushed), None if pulled is None else as_utc(pulled))
        for name, digest, pushed, pulled in rows
    ]


async def remove_tags(
    conn: AsyncConnection, repository: str, going: Iterable[TagState]
) -> list[str]:
    """Delete each tag that still names the digest it named when chosen; the names removed."""
    repo_id = await conn.scalar(select(repositories.c.id).where(repositories.c.name == repository))
    removed = []
    for tag in going:
        result = await conn.execute(
            delete(tags).where(
                tags.c.repository_id == repo_id,
                tags.c.name == tag.name,
                tags.c.manifest_digest == tag.digest,
            )
        )
        if result.rowcount:
            removed.append(tag.name)
    return removed


async def add_run(
    conn: AsyncConnection,
    repository: str,
    started_by: str,
    dry_run: bool,
    started_at: datetime,
    finished_at: datetime,
    removed: str,
    kept: int,
) -> int:
    """Record a run; its id."""
    result = await conn.execute(
        retention_runs.insert().values(
            repository=repository,
            started_by=started_by,
            dry_run=dry_run,
            started_at=started_at,
            finished_at=finished_at,
            removed=removed,
            kept=kept,
        )
    )
    return int(result.inserted_primary_key[0])


async def runs(conn: AsyncConnection, repository: str, limit: int) -> list[RunRow]:
    """The repository's latest runs, newest first."""
    rows = await conn.execute(
        select(
            retention_runs.c.id,
            retention_runs.c.repository,
            retention_runs.c.started_by,
            retention_runs.c.dry_run,
            retention_runs.c.started_at,
            retention_runs.c.finished_at,
            retention_runs.c.removed,
            retention_runs.c.kept,
        )
        .where(retention_runs.c.repository == repository)
        .order_by(retention_runs.c.id.desc())
        .limit(limit)
    )
    return [
        RunRow(i, repo, by, bool(dry), as_utc(start), as_utc(end), removed, kept)
        for i, repo, by, dry, start, end, removed, kept in rows
    ]


async def due_scopes(conn: AsyncConnection, now: datetime) -> list[str]:
    """The scopes whose scheduled run is due."""
    rows = await conn.execute(
        select(retention_policies.c.scope)
        .where(
            retention_policies.c.schedule_hours.is_not(None),
            retention_policies.c.next_run_at <= now,
        )
        .order_by(retention_policies.c.scope)
    )
    return [row[0] for row in rows]


async def set_next_run(conn: AsyncConnection, scope: str, at: datetime | None) -> None:
    await conn.execute(
        update(retention_policies).where(retention_policies.c.scope == scope).values(next_run_at=at)
    )


async def repositories_following(conn: AsyncConnection, namespace: str) -> list[str]:
    """The repositories of `namespace` without a retention policy of their own."""
    own = select(retention_policies.c.scope)
    rows = await conn.execute(
        select(repositories.c.name)
        .where(repositories.c.name.startswith(namespace + "/"), repositories.c.name.not_in(own))
        .order_by(repositories.c.name)
    )
    return [row[0] for row in rows]


# Tags named by a pull: by tag name, or the tags naming the pulled digest.
_PULLED_BY_TAG = (
    update(tags)
    .where(
        tags.c.repository_id
        == select(repositories.c.id)
        .where(repositories.c.name == bindparam("repo"))
        .scalar_subquery(),
        or_(tags.c.name == bindparam("ref"), tags.c.manifest_digest == bindparam("ref")),
        or_(tags.c.pulled_at.is_(None), tags.c.pulled_at < bindparam("at")),
    )
    .values(pulled_at=bindparam("at"))
)


async def record_pulls(conn: AsyncConnection, pulls: Mapping[tuple[str, str], datetime]) -> None:
    """Set the last pull time of the tags pulled: `(repository, tag or digest) -> when`."""
    if pulls:
        await conn.execute(
            _PULLED_BY_TAG,
            [{"repo": repo, "ref": ref, "at": at} for (repo, ref), at in pulls.items()],
        )


async def acquire_lease(
    conn: AsyncConnection, name: str, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take lease `name` for `ttl` when it is free, expired or already `holder`'s."""
    with contextlib.suppress(IntegrityError):
        async with conn.begin_nested():
            await conn.execute(
                leases.insert().values(name=name, holder="", expires_at=now - timedelta(seconds=1))
            )
    result = await conn.execute(
        update(leases)
        .where(
            leases.c.name == name,
            or_(leases.c.expires_at < now, leases.c.holder == holder),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    return bool(result.rowcount)


async def release_lease(conn: AsyncConnection, name: str, holder: str, now: datetime) -> None:
    """Give lease `name` back, if `holder` still holds it."""
    await conn.execute(
        update(leases)
        .where(leases.c.name == name, leases.c.holder == holder)
        .values(expires_at=now - timedelta(seconds=1))
    )
