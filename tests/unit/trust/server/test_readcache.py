"""The trust server's read cache: expiry, immutable entries, LRU bound, forgetting a GUN, and
current entries that last only while the store's generation holds."""

import datetime as dt

from trust.server.readcache import ReadCache
from trust.server.store.base import StoredMeta

DOC = StoredMeta("targets", 1, b"{}", "00" * 32, dt.datetime.now(dt.UTC))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_current_entries_expire_quickly_and_immutable_ones_later():
    clock = Clock()
    cache = ReadCache(current_seconds=1.0, clock=clock)
    cache.put("g", "current", DOC, immutable=False)
    cache.put("g", "hash", DOC, immutable=True)
    assert cache.get("g", "current") is DOC and cache.get("g", "hash") is DOC
    clock.now = 2.0
    assert cache.get("g", "current") is None
    assert cache.get("g", "hash") is DOC
    clock.now = 61.0
    assert cache.get("g", "hash") is None


def test_disabled_forget_and_bound():
    cache = ReadCache(current_seconds=0)
    cache.put("g", "current", DOC, immutable=False)
    assert cache.get("g", "current") is None
    cache = ReadCache(max_entries=2)
    for index in range(3):
        cache.put("g", index, DOC, immutable=True)
    assert cache.get("g", 0) is None and cache.get("g", 2) is DOC
    cache.put("other", 1, DOC, immutable=True)
    cache.forget("g")
    assert cache.get("g", 2) is None and cache.get("other", 1) is DOC


def test_a_current_entry_is_served_only_while_the_store_generation_holds():
    generation = [7]
    cache = ReadCache(current_seconds=60.0, generation=lambda: generation[0])
    cache.put("g", "current", DOC, immutable=False, since=cache.mark())
    cache.put("g", "hash", DOC, immutable=True)
    assert cache.get("g", "current") is DOC
    generation[0] = 8  # a commit, by this process or another
    assert cache.get("g", "current") is None
    assert cache.get("g", "hash") is DOC  # a document by hash never changes
    # Read before a commit and stored after it: the next look sees the change.
    since = cache.mark()
    generation[0] = 9
    cache.put("g", "current", DOC, immutable=False, since=since)
    assert cache.get("g", "current") is None


def test_nothing_current_is_kept_where_the_generation_cannot_be_known():
    cache = ReadCache(current_seconds=60.0, generation=lambda: None)
    cache.put("g", "current", DOC, immutable=False, since=cache.mark())
    cache.put("g", "hash", DOC, immutable=True)
    assert cache.get("g", "current") is None
    assert cache.get("g", "hash") is DOC
