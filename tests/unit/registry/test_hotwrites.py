"""The SQLite writer's raw path for hot statements stores and fails as SQLAlchemy's path does."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from registry.db.audit_queries import _ADD_EVENT
from registry.db.engine import create_engine
from registry.db.hotwrites import HotStatements
from registry.db.migrate import upgrade_schema
from registry.db.queries import as_utc
from registry.db.tables import audit_events
from registry.db.writer import SqliteWriter

AT = datetime(2026, 12, 4, 15, 40, 0, 123456, tzinfo=UTC)
EVENT = {"created_at": AT, "actor": "alice", "action": "push", "target": "a/b", "address": ""}


async def test_hot_rows_read_back_as_the_engine_stored_them(tmp_path):
    path = tmp_path / "hub.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_schema(engine)
    writer = SqliteWriter(str(path))
    try:

        async def add(conn):
            await conn.execute(_ADD_EVENT, {**EVENT, "detail": '{"tag": "v1"}'})
            # `detail` left out: its Python-side default needs SQLAlchemy's path.
            await conn.execute(_ADD_EVENT, {**EVENT, "actor": "bob"})

        await writer.run(add)
        with pytest.raises(IntegrityError):  # the driver's error, raised as SQLAlchemy's
            await writer.run(lambda conn: conn.execute(_ADD_EVENT, {**EVENT, "actor": None}))
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        audit_events.c.actor, audit_events.c.created_at, audit_events.c.detail
                    ).order_by(audit_events.c.id)
                )
            ).all()
    finally:
        writer.close()
        await engine.dispose()
    assert [(actor, as_utc(at), detail) for actor, at, detail in rows] == [
        ("alice", AT, '{"tag": "v1"}'),
        ("bob", AT, "{}"),
    ]


def test_only_what_sqlalchemy_need_not_do_takes_the_raw_path(tmp_path):
    connection = sqlite3.connect(tmp_path / "x.db")
    hot = HotStatements(connection, sqlite.dialect())
    connection.execute(
        "CREATE TABLE audit_events (id INTEGER PRIMARY KEY, created_at TEXT, actor TEXT, "
        "action TEXT, target TEXT, address TEXT, detail TEXT)"
    )
    assert hot.run(_ADD_EVENT, {**EVENT, "detail": "{}"}) is not None
    assert hot.run(_ADD_EVENT, EVENT) is None  # a column default to compute
    assert hot.run(select(audit_events.c.id), {}) is None  # not marked hot
    stored = connection.execute("SELECT created_at FROM audit_events").fetchall()
    assert stored == [("2026-12-04 15:40:00.123456",)]  # the engine's text for the datetime
