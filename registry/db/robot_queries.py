"""Query functions over robot accounts. They take a connection and return frozen values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.tables import namespaces, robot_accounts

__all__ = [
    "RobotRecord",
    "delete_robot",
    "insert_robot",
    "robot_by_id",
    "robot_by_name",
    "robots_of",
    "touch_robot",
]


@dataclass(frozen=True, slots=True)
class RobotRecord:
    id: int
    org: str
    name: str
    patterns: tuple[str, ...]
    actions: frozenset[str]
    description: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None


def utc(value: datetime | str) -> datetime:
    """A timestamp column as read, timezone-aware (SQLite hands back naive UTC, or text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_actions(text: str) -> frozenset[str]:
    return frozenset(filter(None, text.split(",")))


def parse_patterns(text: str) -> tuple[str, ...]:
    return tuple(str(pattern) for pattern in json.loads(text))


_COLUMNS = (
    robot_accounts.c.id,
    namespaces.c.name.label("org"),
    robot_accounts.c.name,
    robot_accounts.c.repositories,
    robot_accounts.c.actions,
    robot_accounts.c.description,
    robot_accounts.c.created_by,
    robot_accounts.c.created_at,
    robot_accounts.c.expires_at,
    robot_accounts.c.last_used_at,
)
_FROM = robot_accounts.join(namespaces, namespaces.c.id == robot_accounts.c.namespace_id)


def _robot(row: Any) -> RobotRecord:
    return RobotRecord(
        id=row.id,
        org=row.org,
        name=row.name,
        patterns=parse_patterns(row.repositories),
        actions=parse_actions(row.actions),
        description=row.description,
        created_by=row.created_by,
        created_at=utc(row.created_at),
        expires_at=utc(row.expires_at),
        last_used_at=utc(row.last_used_at) if row.last_used_at is not None else None,
    )


async def insert_robot(
    conn: AsyncConnection,
    *,
    namespace_id: int,
    name: str,
    secret_hash: str,
    patterns: tuple[str, ...],
    actions: frozenset[str],
    description: str,
    created_by: str,
    expires_at: datetime,
) -> int:
    """Insert a robot and return its id (the caller checked the name is free)."""
    result = await conn.execute(
        robot_accounts.insert().values(
            namespace_id=namespace_id,
            name=name,
            secret_hash=secret_hash,
            repositories=json.dumps(list(patterns)),
            actions=",".join(sorted(actions)),
            description=description,
            created_by=created_by,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
    )
    return int(result.inserted_primary_key[0])


async def robot_by_id(conn: AsyncConnection, robot_id: int) -> RobotRecord | None:
    query = select(*_COLUMNS).select_from(_FROM).where(robot_accounts.c.id == robot_id)
    row = (await conn.execute(query)).first()
    return _robot(row) if row else None


async def robot_by_name(conn: AsyncConnection, namespace_id: int, name: str) -> RobotRecord | None:
    query = (
        select(*_COLUMNS)
        .select_from(_FROM)
        .where(robot_accounts.c.namespace_id == namespace_id, robot_accounts.c.name == name)
    )
    row = (await conn.execute(query)).first()
    return _robot(row) if row else None


async def robots_of(conn: AsyncConnection, namespace_id: int) -> list[RobotRecord]:
    query = (
        select(*_COLUMNS)
        .select_from(_FROM)
        .where(robot_accounts.c.namespace_id == namespace_id)
        .order_by(robot_accounts.c.name)
    )
    return [_robot(row) for row in await conn.execute(query)]


async def delete_robot(conn: AsyncConnection, robot_id: int) -> bool:
    """Delete a robot; False when it was already gone."""
    result = await conn.execute(delete(robot_accounts).where(robot_accounts.c.id == robot_id))
    return bool(result.rowcount)


async def touch_robot(conn: AsyncConnection, robot_id: int) -> None:
    """Record a use of the robot (its login, or a request with its basic credentials)."""
    await conn.execute(
        update(robot_accounts)
        .where(robot_accounts.c.id == robot_id)
        .values(last_used_at=datetime.now(UTC))
    )
