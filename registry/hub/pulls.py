"""Pull counting off the hot path: increments buffered in memory, flushed to the database.

A manifest GET only bumps a dictionary entry. Every `interval` seconds (and when the hub stops,
or before a read of the counts) the buffered increments are added with one batched UPDATE, so
counts survive restarts and add up across every hub process sharing the database. A crash
loses at most the last interval's pulls. The time of each tag's last pull (by the tag, or by
the digest it names) is buffered and written the same way, for retention policies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import hub_queries, retention_queries

logger = logging.getLogger(__name__)

__all__ = ["PullCounter"]


class PullCounter:
    """Buffers pull increments per repository and flushes them periodically."""

    def __init__(self, engine: AsyncEngine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._pending: Counter[str] = Counter()
        self._pulled: dict[tuple[str, str], datetime] = {}
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def count(self, repository: str, reference: str | None = None) -> None:
        """One more pull of `repository`, by `reference` (a tag or a digest) now (no I/O)."""
        self._pending[repository] += 1
        if reference is not None:
            self._pulled[(repository, reference)] = datetime.now(UTC)

    async def flush(self) -> None:
        """Write the buffered increments; on failure they stay buffered for the next try."""
        async with self._lock:
            if not self._pending and not self._pulled:
                return
            batch, self._pending = self._pending, Counter()
            pulled, self._pulled = self._pulled, {}
            try:
                async with self.engine.begin() as conn:
                    await hub_queries.add_pulls(conn, dict(batch))
                    await retention_queries.record_pulls(conn, pulled)
            except Exception:
                self._pending.update(batch)
                for key, at in pulled.items():
                    self._pulled[key] = max(at, self._pulled.get(key, at))
                raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception:
                logger.exception("could not flush pull counts; will retry")

    def start(self) -> None:
        """Start flushing every `interval` seconds."""
        self._task = asyncio.create_task(self._run(), name="pull-count-flush")

    async def stop(self) -> None:
        """Stop the periodic flush and write what is still buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
