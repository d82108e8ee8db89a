"""The async engine: SQLite (WAL) by default, PostgreSQL through asyncpg when configured."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

logger = logging.getLogger(__name__)

__all__ = ["async_url", "create_engine", "sqlite_url_for"]


def sqlite_url_for(path: str) -> str:
    return f"sqlite+aiosqlite:///{path}"


def async_url(url: str) -> str:
    """Map plain SQLAlchemy URLs onto the async drivers we ship with."""
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # First, so that the pragmas below wait for another process's lock instead of failing.
    cursor.execute("PRAGMA busy_timeout=10000")
    # WAL lets readers run beside a writer; several hub processes may share the file.
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit returns (and becomes visible) only once the WAL is on disk.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> AsyncEngine:
    """Create the engine for a database URL (sync or async spelling)."""
    url = async_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=8, max_overflow=8)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)
