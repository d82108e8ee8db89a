"""A SQLAlchemy (async Core) `MetaStore` for SQLite and PostgreSQL.

The tables hang off their own `TRUST_METADATA` (with a naming convention, so constraint names
are stable) and are meant to be created by the hub's Alembic environment, which lists this
metadata beside the registry's; `create_tables` exists for tests and development.

An embedding application may hand in how to run a write transaction and how to run the reads
of the publish path (the hub gives its single SQLite writer thread, which runs a whole
transaction in one hop and commits durably, and its on-loop read connection): through the
async SQLite driver every statement is a hop to a worker thread, which cost more than the SQL.

Scope: SQL only; the store validates nothing beyond version ordering.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from trust.server.errors import OldVersionError
from trust.server.store.base import Change, MetaUpdate, StoredKey, StoredMeta

__all__ = [
    "TRUST_METADATA",
    "WRITE_STATEMENTS",
    "InTransaction",
    "Reader",
    "SqlMetaStore",
    "Transactions",
    "UpdateHook",
    "create_tables",
]

T = TypeVar("T")

TRUST_METADATA = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

_UTC_DATETIME = sa.DateTime(timezone=True)

trust_metadata = sa.Table(
    "trust_metadata",
    TRUST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("gun", sa.String(255), nullable=False),
    sa.Column("role", sa.String(255), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("sha512", sa.String(128), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", _UTC_DATETIME, nullable=False),
    sa.UniqueConstraint("gun", "role", "version", name="uq_trust_metadata_gun_role_version"),
    sa.Index("ix_trust_metadata_gun_role_sha256", "gun", "role", "sha256"),
)

trust_changes = sa.Table(
    "trust_changes",
    TRUST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", _UTC_DATETIME, nullable=False),
    sa.Column("gun", sa.String(255), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
)

trust_keys = sa.Table(
    "trust_keys",
    TRUST_METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("gun", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("keytype", sa.String(32), nullable=False),
    sa.Column("public", sa.LargeBinary, nullable=False),
    sa.Column("encrypted_private", sa.LargeBinary, nullable=False),
    sa.Column("created_at", _UTC_DATETIME, nullable=False),
    sa.UniqueConstraint("key_id", name="uq_trust_keys_key_id"),
    sa.Index("ix_trust_keys_gun_role", "gun", "role"),
)


async def create_tables(engine: AsyncEngine) -> None:
    """Create the trust tables if missing (tests and development; the hub uses Alembic)."""
    async with engine.begin() as connection:
        await connection.run_sync(TRUST_METADATA.create_all)


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # a raw SQLite row: SQLAlchemy stores its DateTime as ISO text
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _meta(row: Sequence[Any]) -> StoredMeta:
    # Positional: rows come from SQLAlchemy or, raw, from a `Reader` (columns `_META_COLUMNS`).
    role, version, data, sha256, created_at = row
    return StoredMeta(role, version, bytes(data), sha256, _aware(created_at))


_META_COLUMNS = (
    trust_metadata.c.role,
    trust_metadata.c.version,
    trust_metadata.c.data,
    trust_metadata.c.sha256,
    trust_metadata.c.created_at,
)


# Statements are built once: building and cache-keying a SQLAlchemy statement per call cost
# more than running it on the hot publish and read paths.
_GUN: sa.BindParameter[str] = sa.bindparam("gun")
_ROLE: sa.BindParameter[str] = sa.bindparam("role")

_CURRENT_QUERY = (
    sa.select(*_META_COLUMNS)
    .where(trust_metadata.c.gun == _GUN, trust_metadata.c.role == _ROLE)
    .order_by(trust_metadata.c.version.desc())
    .limit(1)
)

# The current version of every role of a GUN, in a number of index probes that grows with the
# roles, not with the history: each publish adds versions, and an aggregate over all of them
# (or a plan built on stale statistics, seen on PostgreSQL) made publishing slower every time.
# The roles are walked in order, one probe to the next role name (a loose index scan), then
# one probe each for its highest version.
_PROBE = trust_metadata.alias("probe")
_FIRST_ROLE = sa.select(_PROBE.c.role).where(_PROBE.c.gun == _GUN).order_by(_PROBE.c.role).limit(1)
_ROLES = sa.select(_FIRST_ROLE.scalar_subquery().label("role")).cte("roles", recursive=True)
_ROLES = _ROLES.union_all(
    sa.select(
        sa.select(_PROBE.c.role)
        .where(_PROBE.c.gun == _GUN, _PROBE.c.role > _ROLES.c.role)
        .order_by(_PROBE.c.role)
        .limit(1)
        .scalar_subquery()
    ).where(_ROLES.c.role.is_not(None))
)
_LATEST_ID = (
    sa.select(_PROBE.c.id)
    .where(_PROBE.c.gun == _GUN, _PROBE.c.role == _ROLES.c.role)
    .order_by(_PROBE.c.version.desc())
    .limit(1)
    .scalar_subquery()
)
_CURRENT_ROWS = _ROLES.join(trust_metadata, trust_metadata.c.id == _LATEST_ID)

_ALL_CURRENT_QUERY = sa.select(*_META_COLUMNS).select_from(_CURRENT_ROWS)

_LATEST_VERSIONS = sa.select(trust_metadata.c.role, trust_metadata.c.version).select_from(
    _CURRENT_ROWS
)

_VERSION_QUERY = sa.select(*_META_COLUMNS).where(
    trust_metadata.c.gun == _GUN,
    trust_metadata.c.role == _ROLE,
    trust_metadata.c.version == sa.bindparam("version"),
)

_KEYS_QUERY = (
    sa.select(trust_keys)
    .where(trust_keys.c.gun == _GUN, trust_keys.c.role == _ROLE)
    .order_by(trust_keys.c.id)
)

_INSERT_METADATA = trust_metadata.insert()
_INSERT_CHANGE = trust_changes.insert()

# What `update_many`'s transaction runs: plain values in and out (no expanding parameter, no
# Python-side default, no result processing), so an embedding's writer may run them on its
# database driver directly.
WRITE_STATEMENTS = (_LATEST_VERSIONS, _INSERT_METADATA, _INSERT_CHANGE)


InTransaction = Callable[[AsyncConnection], Awaitable[None]]
"""Work inside an update's transaction: it may only await calls on the connection."""

# Called on the event loop before an update's transaction with the GUN and the roles written;
# what it returns runs inside that transaction, so an embedding application can write rows of
# its own (an event outbox) in the same commit.
UpdateHook = Callable[[str, Sequence[str]], InTransaction | None]

Reader = Callable[[sa.Select[Any], dict[str, Any]], Awaitable[Sequence[Sequence[Any]]]]
"""Runs a prebuilt SELECT with bind parameters; its rows, columns in statement order."""


class Transactions(Protocol):
    """Runs `job` in a write transaction and returns its result once committed (durably)."""

    async def __call__(self, job: Callable[[AsyncConnection], Awaitable[T]]) -> T: ...


class SqlMetaStore:
    """`MetaStore` over an `AsyncEngine`."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_update: UpdateHook | None = None,
        *,
        transactions: Transactions | None = None,
        reader: Reader | None = None,
    ) -> None:
        """Use `engine`; the tables must exist (Alembic or `create_tables`).

        Args:
            engine: the database.
            on_update: asked before each `update_many`; what it returns runs in the update's
                transaction, before its commit.
            transactions: runs write transactions (default: `engine.begin()`); they must see
                every commit made through `engine`.
            reader: runs the reads of the publish path (default: through `engine`); it must
                see every commit made through `transactions`.
        """
        self.engine = engine
        self.on_update = on_update
        self._transactions = transactions or self._begin
        self._reader = reader or self._read

    async def _begin(self, job: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async with self.engine.begin() as connection:
            return await job(connection)

    async def _read(
        self, statement: sa.Select[Any], parameters: dict[str, Any]
    ) -> Sequence[Sequence[Any]]:
        async with self.engine.connect() as connection:
            return (await connection.execute(statement, parameters)).all()

    async def get_current(self, gun: str, role: str) -> StoredMeta | None:
        """See `MetaStore.get_current`."""
        rows = await self._reader(_CURRENT_QUERY, {"gun": gun, "role": role})
        return _meta(rows[0]) if rows else None

    async def get_all_current(self, gun: str) -> dict[str, StoredMeta]:
        """See `MetaStore.get_all_current`."""
        rows = await self._reader(_ALL_CURRENT_QUERY, {"gun": gun})
        return {meta.role: meta for meta in map(_meta, rows)}

    async def get_checksum(self, gun: str, role: str, checksum: str) -> StoredMeta | None:
        """See `MetaStore.get_checksum`."""
        column = trust_metadata.c.sha512 if len(checksum) == 128 else trust_metadata.c.sha256
        query = sa.select(*_META_COLUMNS).where(
            trust_metadata.c.gun == gun,
            trust_metadata.c.role == role,
            column == checksum.lower(),
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return _meta(row) if row is not None else None

    async def get_version(self, gun: str, role: str, version: int) -> StoredMeta | None:
        """See `MetaStore.get_version`."""
        parameters = {"gun": gun, "role": role, "version": version}
        async with self.engine.connect() as connection:
            row = (await connection.execute(_VERSION_QUERY, parameters)).first()
        return _meta(row) if row is not None else None

    async def update_many(self, gun: str, updates: Sequence[MetaUpdate]) -> None:
        """See `MetaStore.update_many`."""
        now = dt.datetime.now(dt.UTC)
        rows = []
        changes = []
        for update in updates:
            sha256 = hashlib.sha256(update.data).hexdigest()
            rows.append(
                {
                    "gun": gun,
                    "role": update.role,
                    "version": update.version,
                    "sha256": sha256,
                    "sha512": hashlib.sha512(update.data).hexdigest(),
                    "data": update.data,
                    "created_at": now,
                }
            )
            if update.role == "timestamp":
                changes.append(
                    {
                        "created_at": now,
                        "gun": gun,
                        "version": update.version,
                        "sha256": sha256,
                        "category": "update",
                    }
                )
        roles = [update.role for update in updates]
        hooked = self.on_update(gun, roles) if self.on_update is not None else None

        async def write(connection: AsyncConnection) -> None:
            # Positional: the rows may be the driver's own tuples (see WRITE_STATEMENTS).
            stored = await connection.execute(_LATEST_VERSIONS, {"gun": gun})
            current = {role: version for role, version in stored}
            for update in updates:
                if update.role in current and update.version <= current[update.role]:
                    raise OldVersionError(
                        f"{update.role} version {update.version} <= {current[update.role]}"
                    )
            if rows:
                await connection.execute(_INSERT_METADATA, rows)
            if changes:
                await connection.execute(_INSERT_CHANGE, changes)
            if hooked is not None:
                await hooked(connection)

        try:
            await self._transactions(write)
        except IntegrityError as exc:
            # Another replica stored the same (gun, role, version) first.
            raise OldVersionError("a concurrent update stored this version first") from exc

    async def delete(self, gun: str) -> None:
        """See `MetaStore.delete`."""
        async with self.engine.begin() as connection:
            await connection.execute(trust_metadata.delete().where(trust_metadata.c.gun == gun))
            await connection.execute(
                trust_changes.insert().values(
                    created_at=dt.datetime.now(dt.UTC),
                    gun=gun,
                    version=0,
                    sha256="",
                    category="deletion",
                )
            )

    async def get_changes(self, change_id: int, records: int, gun: str | None) -> list[Change]:
        """See `MetaStore.get_changes`."""
        query = sa.select(trust_changes)
        if gun is not None:
            query = query.where(trust_changes.c.gun == gun)
        if records < 0 or change_id < 0:
            if change_id >= 0:
                query = query.where(trust_changes.c.id < change_id)
            query = query.order_by(trust_changes.c.id.desc()).limit(abs(records))
        else:
            query = (
                query.where(trust_changes.c.id > change_id)
                .order_by(trust_changes.c.id)
                .limit(records)
            )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        changes = [
            Change(row.id, _aware(row.created_at), row.gun, row.version, row.sha256, row.category)
            for row in rows
        ]
        return sorted(changes, key=lambda change: change.id)

    async def add_key(self, key: StoredKey) -> None:
        """See `MetaStore.add_key`."""
        async with self.engine.begin() as connection:
            await connection.execute(
                trust_keys.insert().values(
                    gun=key.gun,
                    role=key.role,
                    key_id=key.key_id,
                    keytype=key.keytype,
                    public=key.public,
                    encrypted_private=key.encrypted_private,
                    created_at=key.created_at,
                )
            )

    async def get_keys(self, gun: str, role: str) -> list[StoredKey]:
        """See `MetaStore.get_keys`."""
        async with self.engine.connect() as connection:
            rows = (await connection.execute(_KEYS_QUERY, {"gun": gun, "role": role})).all()
        return [
            StoredKey(
                row.gun,
                row.role,
                row.key_id,
                row.keytype,
                bytes(row.public),
                bytes(row.encrypted_private),
                _aware(row.created_at),
            )
            for row in rows
        ]
