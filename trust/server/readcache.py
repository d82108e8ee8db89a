"""A process-local cache in front of the `MetaStore` for the hot read path.

Documents fetched by hash or by version never change, so they are kept for a minute (the
minute only bounds how long another replica's `DELETE` takes to show here). Current documents
(`timestamp.json`, `targets.json`, ...) are kept for `current_seconds` (default 1 s; notary
itself sends `max-age=300` for them). This process forgets a GUN's entries whenever it
publishes, re-signs or deletes that GUN, so its own writes are visible at once.

Given `generation` (a value that changes with every commit of any process, such as SQLite's
data version), a current document is served only while it has not changed, so another
process's publish is visible at once too: a signer that publishes twice in a row through two
processes must see its first publish. Where the generation answers None (it cannot be known
cheaply), current documents are not kept at all.

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
        generation: Callable[[], object] | None = None,
    ) -> None:
        """Keep at most `max_entries`; current documents for `current_seconds`, and only while
        `generation` (when given) answers what it did before they were read."""
        self.current_seconds = current_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._generation = generation
        # (gun, lookup) -> (expiry, document, generation before it was read; None: unchecked)
        self._entries: OrderedDict[tuple[str, Hashable], tuple[float, StoredMeta, object]] = (
            OrderedDict()
        )

    def mark(self) -> object:
        """The store's generation now: ask before reading a current document, pass to `put`."""
        return self._generation() if self._generation is not None else None

    def get(self, gun: str, lookup: Hashable) -> StoredMeta | None:
        """The cached document, or None when absent, expired, or changed since."""
        entry = self._entries.get((gun, lookup))
        if entry is None:
            return None
        expiry, stored, generation = entry
        if expiry < self._clock() or (generation is not None and generation != self.mark()):
            del self._entries[(gun, lookup)]
            return None
        self._entries.move_to_end((gun, lookup))
        return stored

    def put(
        self,
        gun: str,
        lookup: Hashable,
        stored: StoredMeta,
        *,
        immutable: bool,
        since: object = None,
    ) -> None:
        """Remember a document: immutable (fetched by hash or version), or current, read after
        `mark()` returned `since`."""
        seconds = _IMMUTABLE_SECONDS if immutable else self.current_seconds
        if seconds <= 0:
            return
        if not immutable and since is None and self._generation is not None:
            return  # the store cannot tell when it changes: read it again next time
        generation = None if immutable else since
        self._entries[(gun, lookup)] = (self._clock() + seconds, stored, generation)
        self._entries.move_to_end((gun, lookup))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, gun: str) -> None:
        """Drop every entry of `gun` (after this process changed it)."""
        for key in [key for key in self._entries if key[0] == gun]:
            del self._entries[key]
