"""Namespace quotas: the limits, and the bytes a namespace's repositories use.

A namespace's usage is the size of every distinct blob (configs and layers) that the manifests
stored in its repositories reference, each digest counted once per namespace, plus the bytes
of those manifests themselves (each distinct manifest digest once). Manifests count whether
tagged or not: an untagged manifest keeps its blobs until the garbage collector removes it.
Blobs uploaded or mounted but named by no manifest do not count (the collector removes them
after its grace period).

The manifest PUT calls `locked_quota`, `added_bytes`, `charge` and, near the limit only,
`usage` inside its own transaction; `locked_quota` takes the quota row `FOR UPDATE` on
PostgreSQL, so the pushes of one namespace are checked one after another (SQLite has a single
writer already). The row's charge (`NamespaceQuota.charged_bytes`) is an upper bound of the
usage, so a push far from the limit costs a few indexed lookups, not a count of the namespace.

A push that finds no quota row takes no row lock, so on PostgreSQL setting a quota must not
count the usage while such a push is in flight: it would never be charged. Every push
therefore first takes the namespace's advisory lock shared (pushes never wait on each other
for it), and `set_quota` takes it exclusively before it touches the row: it waits for the
pushes in flight to commit, and pushes that start meanwhile wait for the new row.

Indexes the queries rely on: a bytewise one on `repositories.name` (SQLite's unique index;
on PostgreSQL `ix_repositories_name_bytewise`), where a namespace's repositories are a range,
`uq_manifests_repository_id_digest`,
`ix_manifests_repository_id_subject_digest`, `pk_manifest_references` (manifest_id first),
`ix_manifest_references_digest` (for the digests a push adds) and `pk_blobs`: the edges the
garbage collector walks.

Scope: queries only; returns plain values, never ORM rows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, exists, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.hotwrites import hot
from registry.db.tables import (
    blobs,
    manifest_references,
    manifests,
    namespace_quotas,
    repositories,
)

__all__ = [
    "QuotaRow",
    "added_bytes",
    "charge",
    "locked_quota",
    "quota",
    "quotas",
    "recount",
    "remove_quota",
    "set_quota",
    "usage",
]


@dataclass(frozen=True, slots=True)
class QuotaRow:
    """A namespace's quota as stored."""

    namespace: str
    limit_bytes: int
    charged_bytes: int  # an upper bound of the usage (see `NamespaceQuota`)
    updated_at: datetime


# The statements a push runs are built once per dialect and run with the namespace as
# parameters (`_params`): building a statement costs more than running these.
_NAMESPACE = bindparam("ns")  # not "namespace": update() reserves column names


def _in_namespace(dialect: str) -> ColumnElement[bool]:
    """Repositories of the namespace (`<namespace>/...`; parameters from `_params`)."""
    # Bytewise, the names `<namespace>/...` are the range ['ns/', 'ns0') ('0' follows '/'),
    # which an index answers; the LIKE alone would scan (SQLite's LIKE is case-insensitive,
    # and PostgreSQL uses an index for it only for a pattern known when planning).
    name = repositories.c.name
    if dialect == "postgresql":
        # The collation may not order names bytewise: the pattern operators do, and
        # ix_repositories_name_bytewise (varchar_pattern_ops) answers them.
        low, high = name.op("~>=~")(bindparam("low")), name.op("~<~")(bindparam("high"))
    else:
        low, high = name >= bindparam("low"), name < bindparam("high")  # BINARY: bytewise
    return and_(low, high, name.like(bindparam("pattern"), escape="\\"))


def _params(namespace: str, **more: object) -> dict[str, object]:
    # Escaped: `_` in a namespace name is a character, not a LIKE wildcard.
    escaped = namespace.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {
        "pattern": escaped + "/%",
        "low": namespace + "/",
        "high": namespace + "0",
        **more,
    }


# Manifests with their repository's name, and with the digests they reference.
_STORED = manifests.join(repositories, repositories.c.id == manifests.c.repository_id)
_EDGES = _STORED.join(manifest_references, manifest_references.c.manifest_id == manifests.c.id)
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}

# One advisory-lock key space for quotas (the first key), the namespace hashed into the second.
_ADVISORY_CLASS = 0x42515441  # "BQTA"
_PUSH_GATE = text("SELECT pg_advisory_xact_lock_shared(:cls, hashtext(:ns))")
_SETTER_GATE = text("SELECT pg_advisory_xact_lock(:cls, hashtext(:ns))")

_LOCK = hot(
    select(namespace_quotas.c.limit_bytes, namespace_quotas.c.charged_bytes)
    .where(namespace_quotas.c.namespace == _NAMESPACE)
    .with_for_update()
)
_CHARGE = (
    update(namespace_quotas)
    .where(namespace_quotas.c.namespace == _NAMESPACE)
    .values(charged_bytes=bindparam("charge"))
)


@functools.cache
def _usage_statement(dialect: str) -> Any:
    referenced = (
        select(manifest_references.c.digest)
        .select_from(_EDGES)
        .where(_in_namespace(dialect), manifest_references.c.kind == "blob")
    )
    blob_bytes = (
        select(func.coalesce(func.sum(blobs.c.size), 0))
        .where(blobs.c.digest.in_(referenced))
        .scalar_subquery()
    )
    per_digest = (
        select(func.max(func.length(manifests.c.payload)).label("size"))
        .select_from(_STORED)
        .where(_in_namespace(dialect))
        .group_by(manifests.c.digest)
        .subquery()
    )
    manifest_bytes = select(func.coalesce(func.sum(per_digest.c.size), 0)).scalar_subquery()
    return select(blob_bytes + manifest_bytes)


@functools.cache
def _new_blobs_statement(dialect: str) -> Any:
    named_here = (
        select(manifest_references.c.digest)
        .select_from(_EDGES)
        .where(
            manifest_references.c.digest == blobs.c.digest,
            manifest_references.c.kind == "blob",
            _in_namespace(dialect),
        )
    )
    return select(func.coalesce(func.sum(blobs.c.size), 0)).where(
        blobs.c.digest.in_(bindparam("digests", expanding=True)), ~exists(named_here)
    )


@functools.cache
def _stored_statement(dialect: str) -> Any:
    return (
        select(manifests.c.id)
        .select_from(_STORED)
        .where(_in_namespace(dialect), manifests.c.digest == bindparam("digest"))
        .limit(1)
    )


async def locked_quota(conn: AsyncConnection, namespace: str) -> tuple[int, int] | None:
    """The namespace's limit and charge (None: no quota), its row locked until the
    transaction ends (PostgreSQL `FOR UPDATE`; SQLite has one writer and ignores it)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_PUSH_GATE, {"cls": _ADVISORY_CLASS, "ns": namespace})
    row = (await conn.execute(_LOCK, {"ns": namespace})).first()
    return None if row is None else (int(row[0]), int(row[1]))


async def charge(conn: AsyncConnection, namespace: str, charged_bytes: int) -> None:
    """Record the namespace's new charge (under the lock of `locked_quota`)."""
    await conn.execute(_CHARGE, {"ns": namespace, "charge": charged_bytes})


async def usage(conn: AsyncConnection, namespace: str) -> int:
    """The bytes the namespace uses (see the module docstring)."""
    statement = _usage_statement(conn.dialect.name)
    return int(await conn.scalar(statement, _params(namespace)) or 0)


async def added_bytes(
    conn: AsyncConnection,
    namespace: str,
    blob_digests: Iterable[str],
    manifest_digest: str,
    manifest_size: int,
) -> int:
    """The bytes a manifest would add to the namespace's usage: its blobs that no manifest
    of the namespace references yet, and its own bytes unless the namespace stores it."""
    dialect = conn.dialect.name
    wanted = sorted(set(blob_digests))
    added = 0
    if wanted:
        statement = _new_blobs_statement(dialect)
        added += int(await conn.scalar(statement, _params(namespace, digests=wanted)) or 0)
    params = _params(namespace, digest=manifest_digest)
    if await conn.scalar(_stored_statement(dialect), params) is None:
        added += manifest_size
    return added


_QUOTA_COLUMNS = (
    namespace_quotas.c.namespace,
    namespace_quotas.c.limit_bytes,
    namespace_quotas.c.charged_bytes,
    namespace_quotas.c.updated_at,
)


async def quota(conn: AsyncConnection, namespace: str) -> QuotaRow | None:
    row = (
        await conn.execute(select(*_QUOTA_COLUMNS).where(namespace_quotas.c.namespace == namespace))
    ).first()
    return None if row is None else QuotaRow(*row)


async def quotas(conn: AsyncConnection) -> list[QuotaRow]:
    """Every quota, by namespace."""
    rows = await conn.execute(select(*_QUOTA_COLUMNS).order_by(namespace_quotas.c.namespace))
    return [QuotaRow(*row) for row in rows]


async def set_quota(conn: AsyncConnection, namespace: str, limit_bytes: int) -> None:
    """Set (or change) the namespace's limit; its charge starts from the usage counted now.

    Run it in a transaction: on PostgreSQL it first waits for the namespace's pushes in
    flight (see the module docstring), and the changed row stays locked until the count is
    stored, so later pushes wait and their charges add to it.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(_SETTER_GATE, {"cls": _ADVISORY_CLASS, "ns": namespace})
    stmt = _INSERTS[conn.dialect.name](namespace_quotas).values(
        namespace=namespace,
        limit_bytes=limit_bytes,
        charged_bytes=0,
        updated_at=datetime.now(UTC),
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["namespace"],
            set_={"limit_bytes": stmt.excluded.limit_bytes, "updated_at": stmt.excluded.updated_at},
        )
    )
    await recount(conn, namespace)


async def recount(conn: AsyncConnection, namespace: str) -> None:
    """Lock the namespace's quota row and set its charge to the usage counted now."""
    await locked_quota(conn, namespace)
    await charge(conn, namespace, await usage(conn, namespace))


async def remove_quota(conn: AsyncConnection, namespace: str) -> None:
    await conn.execute(delete(namespace_quotas).where(namespace_quotas.c.namespace == namespace))
