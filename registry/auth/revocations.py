"""Whether the personal access token behind a bearer token still stands.

Bearer tokens are checked without the database; the ones minted from a personal access token
also ask this cache, which asks the database at most once per `ttl` seconds per token. A token
revoked through this process is refused at once; one revoked elsewhere (the CLI, another hub
process) within `ttl` seconds.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import account_queries

__all__ = ["RevocationCache"]


class RevocationCache:
    """Remembers, for a short time, whether access tokens are still active."""

    def __init__(self, engine: AsyncEngine, ttl: float = 1.0) -> None:
        self.engine = engine
        self.ttl = ttl
        self._seen: dict[int, tuple[bool, float]] = {}

    async def active(self, token_id: int) -> bool:
        now = time.monotonic()
        seen = self._seen.get(token_id)
        if seen is not None and now - seen[1] < self.ttl:
            return seen[0]
        async with self.engine.connect() as conn:
            record = await account_queries.token_by_id(conn, token_id)
        active = record is not None and record.revoked_at is None
        if len(self._seen) > 10000:
            self._seen.clear()
        self._seen[token_id] = (active, now)
        return active

    def revoked(self, token_id: int) -> None:
        """Note a revocation made by this process (refused from now on)."""
        self._seen[token_id] = (False, float("inf"))
