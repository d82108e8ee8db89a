"""The data directory holds password hashes, token digests, sealed keys and the audit log.

So it is the hub's user's alone: created 0700, with the SQLite database and its journal files
0600, and a directory or database found more open (made by an earlier version) is tightened
at start. Files the hub writes inside carry owner-only modes themselves (the key-encryption
secret, TLS keys, blob files), and `berth-hub` runs with umask 077 for whatever else it makes.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

from registry.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "prepare_data_dir"]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600

# SQLite's companions of the database file (they hold its pages too).
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def _sqlite_file(settings: Settings) -> Path | None:
    url = settings.database_url or ""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def _tighten(path: Path, allowed: int) -> None:
    """Drop every permission bit outside `allowed` (the owner's own bits stay as they are)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & ~allowed:
            path.chmod(mode & allowed)
            logger.info("tightened %s from %o to %o", path, mode, mode & allowed)
    except FileNotFoundError:
        pass
    except PermissionError:
        logger.warning("cannot restrict %s to its owner (mode %o): not ours", path, mode)


def prepare_data_dir(settings: Settings) -> None:
    """Create the data directory (and the SQLite file) for the hub's user only.

    Args:
        settings: resolved settings (`data_dir`, `database_url`).
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _tighten(settings.data_dir, PRIVATE_DIR)
    database = _sqlite_file(settings)
    if database is None:
        return
    if not database.exists():
        # SQLite takes an empty file as a new database, and gives its journals the same mode.
        database.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
    for path in (database, *(Path(f"{database}{suffix}") for suffix in _SQLITE_COMPANIONS)):
        _tighten(path, PRIVATE_FILE)
