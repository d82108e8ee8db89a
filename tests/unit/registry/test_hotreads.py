"""SQLite's hot-read path answers as the engine would: values bound as the engine stores them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from registry.db.auth_reads import LOGIN_FAILURES
from registry.db.engine import create_engine
from registry.db.hotreads import EngineHotReads, SqliteHotReads
from registry.db.migrate import upgrade_schema
from registry.db.tables import login_failures


async def test_a_datetime_bound_on_the_hot_path_compares_as_the_engine_does(tmp_path):
    path = tmp_path / "hub.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_schema(engine)
    at = datetime(2026, 12, 4, 15, 40, 0, 123456, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.execute(insert(login_failures), [
            {"account": "alice", "address": "192.0.2.1", "failed_at": at},
            {"account": "alice", "address": "192.0.2.9", "failed_at": at - timedelta(hours=1)},
        ])
    hot, through_engine = SqliteHotReads(str(path)), EngineHotReads(engine)
    try:
        for since, expected in ((at, (1, 1, 1)), (at - timedelta(hours=2), (1, 2, 1)),
                                (at + timedelta(microseconds=1), (0, 0, 0))):
            params = {"account": "alice", "address": "192.0.2.1", "since": since}
            assert tuple((await hot.fetch(LOGIN_FAILURES, params))[0]) == expected
            assert tuple((await through_engine.fetch(LOGIN_FAILURES, params))[0]) == expected
    finally:
        hot.close()
        await engine.dispose()
