"""The image database's generation: a counter that every change to a name or image bumps.

Scope: the triggers that keep the counter (installed by the schema setup in
`runtime_client.images.db`) and a reader on the standard library's `sqlite3`, so a command
that only asks "has anything changed since generation N?" never loads SQLAlchemy.

The triggers run inside the writing transaction, so the counter moves atomically with the
change, whichever process makes it. A reader that reads generation N before it reads names
from the database, and later finds the generation still N, knows those names are current.
SQLite's own file change counter cannot serve here: in WAL mode it is not bumped on every
commit (sqlite.org/fileformat2.html, "File change counter").
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

__all__ = ["GENERATION_TABLE", "TRIGGERS", "read_generation"]

logger = logging.getLogger(__name__)

GENERATION_TABLE = "generation"

# The tables whose rows decide what a name or ID resolves to.
_WATCHED = ("images", "tags", "repo_digests")

TRIGGERS = tuple(
    f"CREATE TRIGGER bump_generation_{event.lower()}_{table} AFTER {event} ON {table} "
    f"BEGIN UPDATE {GENERATION_TABLE} SET value = value + 1; END"
    for table in _WATCHED for event in ("INSERT", "UPDATE", "DELETE")
)

_BUSY_TIMEOUT_S = 60.0


def read_generation(database: Path) -> int | None:
    """The current generation of the image database at `database`.

    Args:
        database: the `images.db` file.

    Returns:
        The counter, or None when the database does not exist yet or predates the counter.
    """
    try:
        # mode=rw: never create the file; a reader in WAL mode still needs the shared memory.
        conn = sqlite3.connect(f"{database.absolute().as_uri()}?mode=rw", uri=True,
                               timeout=_BUSY_TIMEOUT_S)
    except sqlite3.Error:
        return None
    try:
        row = conn.execute(f"SELECT value FROM {GENERATION_TABLE}").fetchone()
    except sqlite3.Error as exc:
        logger.debug("no generation in %s: %s", database, exc)
        return None
    finally:
        conn.close()
    return int(row[0]) if row else None
