"""Write transactions: one call per unit of work, group-committed on SQLite.

A job is an async function of a connection that runs the query functions of `registry.db`;
`Writer.run(job)` runs it in a transaction of its own and returns its result once that
transaction is committed, or raises what the job raised (its writes undone).

On PostgreSQL (`EngineWriter`) each job is a transaction on the async engine: many run at once.

On SQLite only one connection can write at a time, and through the async driver every statement
is a hop to a worker thread: with many pushes in flight, connections of the pool mostly sleep in
SQLite's busy handler waiting for each other. `SqliteWriter` gives the process one writing
connection on one thread instead. The thread takes every job waiting in its queue, runs each
inside a SAVEPOINT of one `BEGIN IMMEDIATE` transaction (a job that fails rolls back to its
savepoint and leaves the others alone), commits once, then answers every caller. The connection
runs with `synchronous=FULL`: the commit returns after the WAL is on disk, so a caller (and any
reader, since SQLite publishes a commit only after that sync) never sees a write that a power
loss could take back, and the one sync is shared by every job of the batch. Other processes on
the same file (replicas, `berth-hub` commands) still wait for the lock through `busy_timeout`.

The jobs' queries are the same async functions the PostgreSQL path awaits: on the writer thread
they get `_SyncConnection`, whose methods return at once, so a job's coroutine runs to its end in
one step and never suspends.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import StaticPool

from registry.db.hotwrites import HotStatements

logger = logging.getLogger(__name__)

__all__ = ["EngineWriter", "Job", "SqliteWriter", "Writer", "create_writer"]

T = TypeVar("T")
Job = Callable[[AsyncConnection], Awaitable[T]]

MAX_BATCH = 256  # jobs per group commit


class Writer(Protocol):
    async def run(self, job: Job[T]) -> T:
        """Run `job` in a transaction; its result once committed."""

    def close(self) -> None: ...


class EngineWriter:
    """Each job in a transaction of its own on the async engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def run(self, job: Job[T]) -> T:
        async with self.engine.begin() as conn:
            return await job(conn)

    def close(self) -> None:
        return None


class _SyncConnection:
    """The part of `AsyncConnection` that query functions use, over a sync connection
    (`hot` statements on its raw driver, see `registry.db.hotwrites`)."""

    def __init__(self, conn: Connection, hot: HotStatements) -> None:
        self._conn = conn
        self._hot = hot
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        rows = self._hot.run(statement, parameters)
        return self._conn.execute(statement, parameters) if rows is None else rows

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        rows = self._hot.run(statement, parameters)
        return self._conn.scalar(statement, parameters) if rows is None else rows.scalar()


def _run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a write job awaited something other than its connection")


_Item = tuple[Job[Any], asyncio.Future[Any]]


class SqliteWriter:
    """One writing connection on one thread, with group commit (see the module docstring)."""

    def __init__(self, path: str, busy_timeout_ms: int = 10000) -> None:
        engine = create_sync_engine(f"sqlite:///{path}", poolclass=StaticPool)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")  # first: the rest may wait
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        self._engine = engine
        # Transactions are spelled out below: the driver must not begin its own.
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._driver = self._conn.connection.dbapi_connection
        self._hot = HotStatements(self._driver, self._conn.dialect)  # type: ignore[arg-type]
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="sqlite-writer", daemon=True)
        self._thread.start()

    async def run(self, job: Job[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put((job, future))
        return await future

    def close(self) -> None:
        """Finish the jobs already queued, then stop the thread and close the connection."""
        self._queue.put(None)
        self._thread.join()
        self._conn.close()
        self._engine.dispose()

    def _serve(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            for (_job, future), outcome in zip(batch, self._commit(batch), strict=True):
                future.get_loop().call_soon_threadsafe(_settle, future, outcome)
            if stop:
                return

    def _commit(self, batch: list[_Item]) -> list[tuple[bool, Any]]:
        """Run the batch in one transaction; (True, result) or (False, exception) per job."""
        sql = self._driver.execute  # type: ignore[union-attr]
        outcomes: list[tuple[bool, Any]] = []
        try:
            sql("BEGIN IMMEDIATE")
            for job, _future in batch:
                sql("SAVEPOINT job")
                try:
                    connection = _SyncConnection(self._conn, self._hot)
                    outcomes.append((True, _run_to_end(job(connection))))  # type: ignore[arg-type]
                except Exception as exc:  # the job's own failure: undo only its writes
                    if not self._in_transaction():
                        raise  # SQLite abandoned the whole transaction (disk full, I/O error)
                    sql("ROLLBACK TO job")
                    outcomes.append((False, exc))
                sql("RELEASE job")
            sql("COMMIT")
        except Exception as exc:
            logger.exception("write transaction of %d jobs failed", len(batch))
            if self._in_transaction():
                sql("ROLLBACK")
            return [(False, exc)] * len(batch)
        return outcomes

    def _in_transaction(self) -> bool:
        return bool(self._driver.in_transaction)  # type: ignore[union-attr]


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():  # the caller was cancelled; its writes stand, as after any commit
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def create_writer(engine: AsyncEngine) -> Writer:
    """The writer for the engine's database: `SqliteWriter` for a SQLite file."""
    url = make_url(str(engine.url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteWriter(url.database)
    return EngineWriter(engine)
