"""The hot-read paths answer as the engine would: on SQLite values bound as the engine stores
them; on PostgreSQL the same rows, and a read survives the server ending its connection."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text

from registry.db.auth_reads import LOGIN_FAILURES
from registry.db.engine import create_engine
from registry.db.hotreads import (
    EngineHotReads,
    PostgresHotReads,
    SqliteHotReads,
    asyncpg_connect_options,
    create_hot_reads,
)
from registry.db.migrate import upgrade_schema
from registry.db.tables import login_failures
from trust.server.store.base import MetaUpdate
from trust.server.store.sql import SqlMetaStore

AT = datetime(2026, 12, 4, 15, 40, 0, 123456, tzinfo=UTC)


async def _two_failures(engine) -> None:
    """Alice's failed logins: from 192.0.2.1 at AT, from 192.0.2.9 an hour before."""
    async with engine.begin() as conn:
        await conn.execute(
            insert(login_failures),
            [
                {"account": "alice", "address": "192.0.2.1", "failed_at": AT},
                {"account": "alice", "address": "192.0.2.9", "failed_at": AT - timedelta(hours=1)},
            ],
        )


@contextlib.asynccontextmanager
async def _hot_reads_on_postgres(postgres, database: str):
    """A migrated database on the test cluster, with the hot reads the hub makes on it."""
    engine = create_engine(postgres.create_database(database))
    await upgrade_schema(engine)
    hot = create_hot_reads(engine)
    try:
        yield engine, hot
    finally:
        hot.close()
        await engine.dispose()


async def _of_other_connections(conn, column: str) -> list:
    """A `pg_stat_activity` column of every other connection to the database."""
    rows = await conn.execute(
        text(
            f"SELECT {column} FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    return rows.scalars().all()


async def test_a_datetime_bound_on_the_hot_path_compares_as_the_engine_does(tmp_path):
    path = tmp_path / "hub.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_schema(engine)
    await _two_failures(engine)
    hot, through_engine = SqliteHotReads(str(path)), EngineHotReads(engine)
    try:
        for since, expected in (
            (AT, (1, 1, 1)),
            (AT - timedelta(hours=2), (1, 2, 1)),
            (AT + timedelta(microseconds=1), (0, 0, 0)),
        ):
            params = {"account": "alice", "address": "192.0.2.1", "since": since}
            assert tuple((await hot.fetch(LOGIN_FAILURES, params))[0]) == expected
            assert tuple((await through_engine.fetch(LOGIN_FAILURES, params))[0]) == expected
    finally:
        hot.close()
        await engine.dispose()


async def test_postgres_hot_reads_answer_as_the_engine_and_survive_a_lost_connection(postgres):
    async with _hot_reads_on_postgres(postgres, "hotreads") as (engine, hot):
        assert isinstance(hot, PostgresHotReads)
        through_engine = EngineHotReads(engine)
        await _two_failures(engine)
        # Rows with bytes and aware datetimes: the trust store's reads of one GUN.
        store = SqlMetaStore(engine, reader=hot.fetch)
        await store.update_many(
            "hub/team/app",
            [MetaUpdate("root", 1, b"\x00root"), MetaUpdate("targets", 2, b"targets")],
        )
        for since, expected in ((AT, (1, 1, 1)), (AT + timedelta(microseconds=1), (0, 0, 0))):
            params = {"account": "alice", "address": "192.0.2.1", "since": since}
            assert tuple((await hot.fetch(LOGIN_FAILURES, params))[0]) == expected
            assert tuple((await through_engine.fetch(LOGIN_FAILURES, params))[0]) == expected
        current = await store.get_all_current("hub/team/app")
        assert {role: meta.data for role, meta in current.items()} == {
            "root": b"\x00root",
            "targets": b"targets",
        }
        assert current["root"].created_at.tzinfo is not None
        # The server ends every other connection (a restart, an administrator): the next
        # read is answered all the same.
        async with engine.connect() as conn:
            ended = await _of_other_connections(conn, "pid")
            await conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"),
                {"pids": ended},
            )
            assert ended
            for _ in range(100):  # until they are gone: termination is asynchronous
                await conn.execute(text("SELECT pg_stat_clear_snapshot()"))
                gone = await conn.scalar(
                    text(
                        "SELECT count(*) = 0 FROM pg_stat_activity "
                        "WHERE pid = ANY(CAST(:pids AS int[]))"
                    ),
                    {"pids": ended},
                )
                if gone:
                    break
                await asyncio.sleep(0.05)
            assert gone
        params = {"account": "alice", "address": "192.0.2.1", "since": AT}
        assert tuple((await hot.fetch(LOGIN_FAILURES, params))[0]) == (1, 1, 1)


async def test_a_postgres_hot_read_is_one_statement_and_no_reset(postgres):
    async with _hot_reads_on_postgres(postgres, "hotreset") as (engine, hot):
        params = {"account": "alice", "address": "192.0.2.1", "since": AT}
        for _ in range(3):
            assert tuple((await hot.fetch(LOGIN_FAILURES, params))[0]) == (0, 0, 0)
        # What each other connection of the database ran last: the read itself, not a reset
        # query sent when the pool took the connection back (a second round trip per read).
        async with engine.connect() as conn:
            queries = await _of_other_connections(conn, "query")
        assert any("login_failures" in query for query in queries), queries
        assert not any("RESET ALL" in query for query in queries), queries


def test_asyncpg_connections_are_opened_as_the_engine_would_open_them():
    engine = create_engine("postgresql://hub:secret@db.internal:5433/berth?ssl=require")
    assert asyncpg_connect_options(engine) == (
        [],
        {
            "host": "db.internal",
            "port": 5433,
            "user": "hub",
            "password": "secret",
            "database": "berth",
            "ssl": "require",
        },
    )
    # Behind PgBouncer in transaction mode prepared statements must not be kept, and the
    # adapter's option says so.
    behind_pgbouncer = create_engine("postgresql://hub@db/berth?prepared_statement_cache_size=0")
    assert asyncpg_connect_options(behind_pgbouncer)[1]["statement_cache_size"] == 0
