"""The local metadata cache, in the Docker CLI's and notary's layout.

::

    <trust_dir>/tuf/<GUN>/metadata/
      root.json  timestamp.json  snapshot.json  targets.json
      targets/releases.json      # delegated roles keep their slashes as directories

Files hold the exact bytes the server served (their hashes are what snapshot and timestamp
list). Writes are atomic (temporary file in the same directory, then `os.replace`).

Scope: file I/O only; the cache trusts nothing by itself.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from trust.tuf.model import is_delegation_name

__all__ = ["MetadataCache"]

logger = logging.getLogger(__name__)

_TOP_LEVEL = ("root", "timestamp", "snapshot", "targets")


class MetadataCache:
    """Cached metadata of one GUN under a trust directory."""

    def __init__(self, trust_dir: str | os.PathLike[str], gun: str) -> None:
        """Cache for `gun` under `<trust_dir>/tuf/<gun>/metadata`."""
        self.directory = Path(trust_dir) / "tuf" / gun / "metadata"

    def _path(self, role: str) -> Path:
        if role not in _TOP_LEVEL and not is_delegation_name(role):
            raise ValueError(f"invalid role name {role!r}")
        return self.directory / f"{role}.json"

    def load(self, role: str) -> bytes | None:
        """The cached bytes of `role`, or None."""
        try:
            return self._path(role).read_bytes()
        except FileNotFoundError:
            return None

    def store(self, role: str, data: bytes) -> None:
        """Atomically replace the cached bytes of `role`."""
        path = self._path(role)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            handle.write(data)
            temporary = handle.name
        os.replace(temporary, path)

    def roles(self) -> list[str]:
        """Every cached role name."""
        if not self.directory.is_dir():
            return []
        return sorted(
            str(path.relative_to(self.directory))[: -len(".json")]
            for path in self.directory.rglob("*.json")
        )

    def remove(self, role: str) -> None:
        """Forget one cached role."""
        self._path(role).unlink(missing_ok=True)

    def clear(self) -> None:
        """Forget everything cached for the GUN."""
        for role in self.roles():
            self.remove(role)
