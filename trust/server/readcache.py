"""A process-local cache in front of the `MetaStore` for the hot read path.

Documents fetched by hash or by version never change, so they are kept for a minute (the
minute only bounds how long another replica's `DELETE` takes to show here). Current documents
(`timestamp.json`, `targets.json`, ...) are kept for `current_seconds` (default 1 s; notary
itself sends `max-age=300` for them). This process forgets a GUN's entries whenever it
publishes, re-signs or deletes that GUN, so its own writes are visible at once.

Scope: memory only; bounded LRU.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from trust.server.store.base import StoredMeta

__all__ = ["ReadCache"]

_IMMUTABLE_SECONDS = 60.0


class ReadCache:
    """LRU of (gun, lookup) -> StoredMeta with per-entry expiry."""

    def __init__(
        self,
        current_seconds: float = 1.0,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Keep at most `max_entries`; current documents for `current_seconds`."""
        self.current_seconds = current_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, Hashable], tuple[float, StoredMeta]] = OrderedDict()

    def get(self, gun: str, lookup: Hashable) -> StoredMeta | None:
        """The cached document, or None when absent or stale."""
        entry = self._entries.get((gun, lookup))
        if entry is None:
            return None
        if entry[0] < self._clock():
            del self._entries[(gun, lookup)]
            return None
        self._entries.move_to_end((gun, lookup))
        return entry[1]

    def put(self, gun: str, lookup: Hashable, stored: StoredMeta, *, immutable: bool) -> None:
        """Remember a document (immutable: fetched by hash or version)."""
        seconds = _IMMUTABLE_SECONDS if immutable else self.current_seconds
        if seconds <= 0:
            return
        self._entries[(gun, lookup)] = (self._clock() + seconds, stored)
        self._entries.move_to_end((gun, lookup))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, gun: str) -> None:
        """Drop every entry of `gun` (after this process changed it)."""
        for key in [key for key in self._entries if key[0] == gun]:
            del self._entries[key]
