"""The reads behind every pull, made cheap: run a prebuilt statement, get its rows.

On PostgreSQL they go through the async engine (asyncpg needs no threads). On SQLite the async
driver hops to a worker thread for every step of a query, which costs far more than the query
itself: there the same statements, compiled once, run on a plain `sqlite3` connection in the
event loop. WAL mode lets such a read run beside writers and each statement sees the latest
commit, so nothing is cached and a deleted tag is never served.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

__all__ = ["EngineHotReads", "HotReads", "SqliteHotReads", "create_hot_reads"]

Row = tuple[Any, ...]


class HotReads(Protocol):
    async def fetch(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        """All rows of a prebuilt statement with bind parameters."""

    def close(self) -> None: ...


class EngineHotReads:
    """Hot reads through the async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def fetch(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        async with self.engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(statement, params)]

    def close(self) -> None:
        return None


# SQL, each positional parameter's name and bind processor, and the defaults of parameters.
_Compiled = tuple[str, list[tuple[str, Callable[[Any], Any] | None]], dict[str, Any]]


class SqliteHotReads:
    """Hot reads on a read-only `sqlite3` connection, run inline on the event loop."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA busy_timeout=2000")
        self._compiled: dict[int, _Compiled] = {}

    def _compile(self, statement: Select[Any]) -> _Compiled:
        # Keyed by identity: callers pass module-level statements built once.
        found = self._compiled.get(id(statement))
        if found is None:
            compiled = statement.compile(dialect=sqlite.dialect())
            # Parameters SQLAlchemy adds itself (an OFFSET 0 after LIMIT) keep their values.
            # Values go in as the engine would store them (a datetime as SQLite's text).
            processors = compiled._bind_processors
            order = [(name, processors.get(name)) for name in compiled.positiontup or []]
            found = (str(compiled), order, dict(compiled.params))
            self._compiled[id(statement)] = found
        return found

    async def fetch(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        sql, order, defaults = self._compile(statement)
        values = [params[name] if name in params else defaults[name] for name, _ in order]
        values = [
            value if process is None or value is None else process(value)
            for value, (_, process) in zip(values, order, strict=True)
        ]
        return self._conn.execute(sql, values).fetchall()

    def close(self) -> None:
        self._conn.close()


def create_hot_reads(engine: AsyncEngine) -> HotReads:
    """The fastest correct hot-read path for the engine's database."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteHotReads(url.database)
    return EngineHotReads(engine)
