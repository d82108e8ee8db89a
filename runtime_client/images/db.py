"""The image store's SQLite database: tables and a sync engine safe for concurrent processes.

Scope: schema and connection setup only; queries live in `runtime_client.images.store`.
The database is `<root>/images.db` in WAL mode with a busy timeout, and every write runs in a
`BEGIN IMMEDIATE` transaction, so two `berth` processes serialise their writes instead of
failing on lock upgrades. The schema is created on first open (inside such a transaction);
`PRAGMA user_version` records its version: 1 had no generation counter, 2 adds it (see
`runtime_client.images.generation`), 3 adds the unpacked sizes of layers; opening an older
database upgrades it in place.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Core tables, not the ORM: the client only runs a few statements per command, and not
# importing sqlalchemy.orm keeps every `berth` invocation's start-up shorter.
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)

from runtime_client.images.generation import GENERATION_TABLE, TRIGGERS

__all__ = [
    "BLOB_SOURCES",
    "GENERATION",
    "IMAGES",
    "IMAGE_LAYERS",
    "LAYER_SIZES",
    "LEASES",
    "METADATA",
    "REPO_DIGESTS",
    "SCHEMA_VERSION",
    "TAGS",
    "open_engine",
    "read",
    "write",
]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 60_000

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


METADATA = MetaData(naming_convention=_NAMING)

# One image; its ID is the digest of its config blob.
IMAGES = Table(
    "images", METADATA,
    Column("id", String, primary_key=True),
    Column("manifest_digest", String, nullable=False),
    Column("manifest_media_type", String, nullable=False),
    Column("config_media_type", String, nullable=False),
    Column("created", String, nullable=False),  # RFC 3339, from the config
    Column("size", Integer, nullable=False),  # bytes: config + layer blobs
    Column("added_at", Float, nullable=False),  # unix seconds, when it entered this store
)

# Layer `position` (0 = base) of an image.
IMAGE_LAYERS = Table(
    "image_layers", METADATA,
    Column("image_id", String, ForeignKey("images.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("digest", String, nullable=False, index=True),
    Column("media_type", String, nullable=False),
    Column("size", Integer, nullable=False),
    Column("diff_id", String, nullable=False),
)

# The unpacked size of the layer whose uncompressed tar has digest `diff_id` (as dockerd counts
# it, `runtime_client.images.diffsize`), recorded the first time something asks.
LAYER_SIZES = Table(
    "layer_sizes", METADATA,
    Column("diff_id", String, primary_key=True),
    Column("size", Integer, nullable=False),
)

# `host/repo:tag` -> image.
TAGS = Table(
    "tags", METADATA,
    Column("name", String, primary_key=True),
    Column("image_id", String, ForeignKey("images.id", ondelete="CASCADE"), nullable=False,
           index=True),
)

# `host/repo@sha256:...` (the manifest or index digest a registry served) -> image.
REPO_DIGESTS = Table(
    "repo_digests", METADATA,
    Column("name", String, primary_key=True),
    Column("image_id", String, ForeignKey("images.id", ondelete="CASCADE"), nullable=False,
           index=True),
)

# A blob an operation in progress relies on; garbage collection leaves it alone.
LEASES = Table(
    "leases", METADATA,
    Column("lease", String, primary_key=True),
    Column("digest", String, primary_key=True),
    Column("expires_at", Float, nullable=False),
)

# A registry repository known to hold a blob (for cross-repository mount on push).
BLOB_SOURCES = Table(
    "blob_sources", METADATA,
    Column("digest", String, primary_key=True),
    Column("host", String, primary_key=True),
    Column("repository", String, primary_key=True),
)

# One row: how many changes the image tables have seen (bumped by triggers, see generation.py).
GENERATION = Table(
    GENERATION_TABLE, METADATA,
    Column("id", Integer, primary_key=True),  # always 0
    Column("value", Integer, nullable=False),
)


def _add_generation(conn: Connection) -> None:
    GENERATION.create(conn, checkfirst=True)
    conn.execute(GENERATION.insert().values(id=0, value=0))
    for trigger in TRIGGERS:
        conn.exec_driver_sql(trigger)


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database to WAL (a no-op once it is), waiting out other processes.

    SQLite does not call the busy handler for this pragma while another connection is opening
    the same new database, so a second `berth` started at once got "database is locked"; the
    switch is retried for as long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


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
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

    with write(engine) as conn:
        version = conn.exec_driver_sql("PRAGMA user_version").scalar() or 0
        if version == 0:
            METADATA.create_all(conn)
        if version < 2:
            _add_generation(conn)
        if version < 3:
            LAYER_SIZES.create(conn, checkfirst=True)
        if version < SCHEMA_VERSION:
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
