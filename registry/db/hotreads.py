"""The reads behind every pull, made cheap: run a prebuilt statement, get its rows.

On SQLite the async driver hops to a worker thread for every step of a query, which costs far
more than the query itself: there the same statements, compiled once, run on a plain `sqlite3`
connection in the event loop. WAL mode lets such a read run beside writers and each statement
sees the latest commit, so nothing is cached and a deleted tag is never served.

On PostgreSQL, a read through the async engine (a pool checkout with its ping, a greenlet, an
execution context, a result) took several times the round trip to the server. The same
statements, compiled once for the engine's dialect, run on a small asyncpg pool of their own,
outside any transaction, so each too sees the latest commit. They change no session state,
so a connection goes back to the pool without asyncpg's reset query, which would be a second
round trip for every read. A statement whose columns need SQLAlchemy's result processing still
goes through the engine.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any, Protocol

import asyncpg
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

__all__ = [
    "EngineHotReads",
    "HotReads",
    "PostgresHotReads",
    "SqliteHotReads",
    "asyncpg_connect_options",
    "create_hot_reads",
]

Row = tuple[Any, ...]


class HotReads(Protocol):
    async def fetch(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        """All rows of a prebuilt statement with bind parameters."""

    def generation(self) -> object:
        """A value that changes with every commit to the database by any connection, when that
        is cheap to know: what was read before may be kept while it holds. None otherwise:
        nothing read before may be kept."""

    def close(self) -> None: ...


class EngineHotReads:
    """Hot reads through the async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def fetch(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        async with self.engine.connect() as conn:
            return [tuple(row) for row in await conn.execute(statement, params)]

    def generation(self) -> object:
        return None

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

    def generation(self) -> object:
        # SQLite's data version: changes when another connection (this process's writer or
        # another process) commits; reading it costs no I/O beyond the shared-memory index.
        return self._conn.execute("PRAGMA data_version").fetchone()[0]

    def close(self) -> None:
        self._conn.close()


# What a connection lost under a read looks like (a server restarted or a connection ended by
# an administrator): the read is tried once more, on another connection.
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.AdminShutdownError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection whose server ended it while idle in the pool
    OSError,
)


def asyncpg_connect_options(engine: AsyncEngine) -> tuple[list[Any], dict[str, Any]]:
    """How to open an asyncpg connection to the engine's database, as the engine would.

    The URL's options of SQLAlchemy's asyncpg adapter are not asyncpg's: its statement cache
    size becomes asyncpg's own (0 where prepared statements must not be kept, as behind
    PgBouncer in transaction mode), and the rest is dropped.
    """
    args, options = engine.dialect.create_connect_args(engine.url)
    adapter_cache = options.pop("prepared_statement_cache_size", None)
    options.pop("prepared_statement_name_func", None)
    if adapter_cache is not None:
        options.setdefault("statement_cache_size", adapter_cache)
    if "statement_cache_size" in options:  # from the URL's query, as text
        options["statement_cache_size"] = int(options["statement_cache_size"])
    return list(args), options


class _PooledReadConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pool connection handed back as it was taken: a hot read is one statement outside any
    transaction (no SET, LISTEN, cursor or advisory lock), so there is nothing to reset."""

    def get_reset_query(self) -> str:
        return ""


class PostgresHotReads:
    """Hot reads on an asyncpg pool of their own (see the module docstring)."""

    def __init__(self, engine: AsyncEngine, size: int = 4) -> None:
        self._dialect = engine.dialect
        self._connect = asyncpg_connect_options(engine)
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None
        self._compiled: dict[int, _Compiled | None] = {}
        self._engine = EngineHotReads(engine)

    def _compile(self, statement: Select[Any]) -> _Compiled | None:
        key = id(statement)  # callers pass module-level statements built once
        if key not in self._compiled:
            compiled = statement.compile(dialect=self._dialect)
            processed = any(
                column[3]._cached_result_processor(self._dialect, None) is not None
                for column in compiled._result_columns
            )
            processors = compiled._bind_processors
            order = [(name, processors.get(name)) for name in compiled.positiontup or []]
            self._compiled[key] = (
                None if processed else (str(compiled), order, dict(compiled.params))
            )
        return self._compiled[key]

    async def _open(self) -> asyncpg.Pool:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                args, options = self._connect
                self._pool = await asyncpg.create_pool(
                    *args,
                    min_size=1,
                    max_size=self._size,
                    connection_class=_PooledReadConnection,
                    **options,
                )
        return self._pool

    async def fetch(self, statement: Select[Any], params: dict[str, Any]) -> list[Row]:
        compiled = self._compile(statement)
        if compiled is None:
            return await self._engine.fetch(statement, params)
        sql, order, defaults = compiled
        values = [
            value if process is None or value is None else process(value)
            for value, process in (
                (params[name] if name in params else defaults[name], process)
                for name, process in order
            )
        ]
        pool = self._pool or await self._open()
        try:
            rows = await pool.fetch(sql, *values)
        except _CONNECTION_LOST:
            await pool.expire_connections()  # the others are likely gone too
            rows = await pool.fetch(sql, *values)
        return [tuple(row) for row in rows]

    def generation(self) -> object:
        return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()


def create_hot_reads(engine: AsyncEngine) -> HotReads:
    """The fastest correct hot-read path for the engine's database."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteHotReads(url.database)
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        return PostgresHotReads(engine)
    return EngineHotReads(engine)
