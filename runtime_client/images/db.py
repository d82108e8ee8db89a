"""The image store's SQLite database: tables and a sync engine safe for concurrent processes.

Scope: schema and connection setup only; queries live in `runtime_client.images.store`.
The database is `<root>/images.db` in WAL mode with a busy timeout, and every write runs in a
`BEGIN IMMEDIATE` transaction, so two `berth` processes serialise their writes instead of
failing on lock upgrades. The schema is created on first open (inside such a transaction);
`PRAGMA user_version` records its version for future upgrades.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "SCHEMA_VERSION",
    "BlobSourceRow",
    "ImageLayerRow",
    "ImageRow",
    "LeaseRow",
    "RepoDigestRow",
    "TagRow",
    "open_engine",
    "read",
    "write",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names."""

    metadata = MetaData(naming_convention=_NAMING)


class ImageRow(Base):
    """One image; its ID is the digest of its config blob."""

    __tablename__ = "images"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    manifest_digest: Mapped[str] = mapped_column(String)
    manifest_media_type: Mapped[str] = mapped_column(String)
    config_media_type: Mapped[str] = mapped_column(String)
    created: Mapped[str] = mapped_column(String)  # RFC 3339, from the config
    size: Mapped[int] = mapped_column(Integer)  # bytes: config + layer blobs
    added_at: Mapped[float] = mapped_column()  # unix seconds, when it entered this store


class ImageLayerRow(Base):
    """Layer `position` (0 = base) of an image."""

    __tablename__ = "image_layers"
    image_id: Mapped[str] = mapped_column(
        ForeignKey("images.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String, index=True)
    media_type: Mapped[str] = mapped_column(String)
    size: Mapped[int] = mapped_column(Integer)
    diff_id: Mapped[str] = mapped_column(String)


class TagRow(Base):
    """`host/repo:tag` -> image."""

    __tablename__ = "tags"
    name: Mapped[str] = mapped_column(String, primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)


class RepoDigestRow(Base):
    """`host/repo@sha256:...` (the manifest or index digest a registry served) -> image."""

    __tablename__ = "repo_digests"
    name: Mapped[str] = mapped_column(String, primary_key=True)
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)


class LeaseRow(Base):
    """A blob an operation in progress relies on; garbage collection leaves it alone."""

    __tablename__ = "leases"
    lease: Mapped[str] = mapped_column(String, primary_key=True)
    digest: Mapped[str] = mapped_column(String, primary_key=True)
    expires_at: Mapped[float] = mapped_column()


class BlobSourceRow(Base):
    """A registry repository known to hold a blob (for cross-repository mount on push)."""

    __tablename__ = "blob_sources"
    digest: Mapped[str] = mapped_column(String, primary_key=True)
    host: Mapped[str] = mapped_column(String, primary_key=True)
    repository: Mapped[str] = mapped_column(String, primary_key=True)


def open_engine(root: Path) -> Engine:
    """Open (creating when needed) `<root>/images.db`."""
    root.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{root / 'images.db'}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event decide how transactions start (pysqlite otherwise
        # begins lazily and deferred, which deadlocks two writers upgrading their locks).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    with write(engine) as conn:
        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
        if not version:
            Base.metadata.create_all(conn)
            conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return engine


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction holding SQLite's write lock from its first statement."""
    with engine.connect() as conn:
        conn.info["write"] = True
        try:
            with conn.begin():
                yield conn
        finally:
            conn.info.pop("write", None)


@contextmanager
def read(engine: Engine) -> Iterator[Connection]:
    """A read transaction (a consistent WAL snapshot)."""
    with engine.connect() as conn, conn.begin():
        yield conn
