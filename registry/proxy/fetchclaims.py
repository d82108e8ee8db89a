"""One upstream fetch per missing blob across hub processes sharing a database and storage.

`BlobFetcher` joins the concurrent requests of one process to one fetch. Processes sharing a
database and a store (`--workers N`, replicas behind a load balancer) agree through a row of
the `leases` table per digest, `proxy-blob:<digest>`: the process that takes it fetches (its
own later requests join that fetch as before, streamed as it arrives), and a request in any
other process waits until the fetch ended, then the store serves the blob. The claim is
renewed while the fetch runs and deleted when it ends, stored or failed (a store may show the
blob's row before its bytes, so the end is what followers wait for); a failed fetch thus
hands the blob to the next request, wherever it is. A holder that dies stops renewing: once its
claim expires (`CLAIM_TTL`), a waiting process takes it and fetches.

Scope: the claims; fetching is `registry.proxy.blobfetch`'s, caching `registry.proxy.cache`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import retention_queries
from registry.db.queries import as_utc
from registry.db.tables import leases
from registry.oci.digest import Digest
from registry.proxy.blobfetch import BlobFetch, FetchReader
from registry.proxy.cache import Proxied, ProxyCache

logger = logging.getLogger(__name__)

__all__ = ["CLAIM_TTL", "FetchClaims"]

CLAIM_TTL = timedelta(seconds=30)  # a dead holder's claim lasts this long
RENEW_SECONDS = 10.0  # a live holder renews this often
WAIT_POLL_SECONDS = 0.2  # how often a waiting request looks at the claim


class FetchClaims:
    """The claims of this process on blob fetches.

    Args:
        engine: the database the hub processes share.
        cache: this process's pull-through cache.
        clock: the current time (tests pass their own).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        cache: ProxyCache,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.clock = clock
        self._keepers: set[asyncio.Task[None]] = set()

    async def fetch(self, proxied: Proxied, digest: Digest) -> FetchReader | None:
        """A reader of this process's fetch of the blob, once the upstream answered (joined, or
        started under the claim), or None when another process stored the blob meanwhile (the
        store serves it). The caller closes the reader.

        Raises:
            as `ProxyCache.fetch_blob`.
        """
        name = f"proxy-blob:{digest}"
        while True:
            if self.cache.fetcher.running(digest) is not None:
                return await self.cache.fetch_blob(proxied, digest)
            holder = uuid.uuid4().hex
            if await self._take(name, holder):
                return await self._lead(proxied, digest, name, holder)
            # Another process fetches it: wait until its claim is given back (the fetch ended:
            # only then are both the bytes and their row in place, whatever the store) or
            # lapses (its process died); then the blob is there, or this process fetches.
            while await self._held(name):
                await asyncio.sleep(WAIT_POLL_SECONDS)
            if await self.cache.has_blob(proxied, digest):
                return None

    async def _lead(
        self, proxied: Proxied, digest: Digest, name: str, holder: str
    ) -> FetchReader:
        try:
            reader = await self.cache.fetch_blob(proxied, digest)
        except BaseException:
            await asyncio.shield(self._give_back(name, holder))
            raise
        keeper = asyncio.create_task(self._keep(reader.fetch, name, holder))
        self._keepers.add(keeper)
        keeper.add_done_callback(self._keepers.discard)
        return reader

    async def _keep(self, fetch: BlobFetch, name: str, holder: str) -> None:
        """Renew the claim until the fetch ends, then give it back."""
        try:
            while True:
                try:
                    async with asyncio.timeout(RENEW_SECONDS):
                        await fetch.wait_finished()
                    return
                except TimeoutError:
                    await self._take(name, holder)
        finally:
            await asyncio.shield(self._give_back(name, holder))

    async def _take(self, name: str, holder: str) -> bool:
        async with self.engine.begin() as conn:
            return await retention_queries.acquire_lease(
                conn, name, holder, self.clock(), CLAIM_TTL
            )

    async def _held(self, name: str) -> bool:
        async with self.engine.connect() as conn:
            expires = await conn.scalar(select(leases.c.expires_at).where(leases.c.name == name))
        return expires is not None and as_utc(expires) > self.clock()

    async def _give_back(self, name: str, holder: str) -> None:
        # Deleted, not left expired: a row per blob ever fetched would pile up.
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    delete(leases).where(leases.c.name == name, leases.c.holder == holder)
                )
        except Exception:  # it lapses by itself
            logger.warning("giving back the fetch claim %s failed", name, exc_info=True)

    async def close(self) -> None:
        """Give back the claims of fetches still running (after `BlobFetcher.close`)."""
        for keeper in list(self._keepers):
            keeper.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*self._keepers, return_exceptions=True)
