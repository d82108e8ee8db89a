"""Reading, mounting and unlinking blobs of a repository.

A blob is readable in a repository only while the database links it there; the bytes live once
in the driver's content-addressed store (`registry.storage.paths.blob_path`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db import queries
from registry.db.hotreads import HotReads
from registry.db.writer import Writer
from registry.errors import BlobUnknownError
from registry.oci.digest import Digest
from registry.storage.driver.base import PathNotFoundError, StorageDriver
from registry.storage.paths import blob_path

logger = logging.getLogger(__name__)

__all__ = ["BlobService"]

_REFRESH_MEMO_SIZE = 100_000  # entries before the memo of refreshed links starts over


class BlobService:
    """Blob operations for one hub: `stat`, `open`, `mount`, `unlink`."""

    def __init__(
        self,
        driver: StorageDriver,
        reads: HotReads,
        writer: Writer,
        link_refresh_after: float | None = None,
    ) -> None:
        """Args:
        link_refresh_after: seconds after which a HEAD or GET refreshes the blob's link in
            the database, so that a client that saw the blob and next pushes a manifest using
            it is not overtaken by an online GC (`registry.services.gc`); None: never.
        """
        self.driver = driver
        self.reads = reads
        self.writer = writer
        self.link_refresh_after = link_refresh_after
        # (repository, digest) -> monotonic time this process last refreshed the link.
        self._refreshed: dict[tuple[str, str], float] = {}

    async def stat(self, repository: str, digest: Digest) -> int:
        """The blob's size.

        Raises:
            BlobUnknownError: the blob is not linked into the repository.
        """
        rows = await self.reads.fetch(
            queries.LINKED_BLOB_SIZE, {"repo": repository, "digest": str(digest)}
        )
        if not rows:
            raise BlobUnknownError(digest=str(digest))
        if self.link_refresh_after is not None:
            await self._refresh_link(repository, str(digest), self.link_refresh_after)
        return int(rows[0][0])

    async def _refresh_link(self, repository: str, digest: str, after: float) -> None:
        # At most one write per link and period in this process: pulls stay read-only.
        now = time.monotonic()
        last = self._refreshed.get((repository, digest))
        if last is not None and now - last < after:
            return
        if len(self._refreshed) > _REFRESH_MEMO_SIZE:
            self._refreshed.clear()
        self._refreshed[(repository, digest)] = now
        await self.writer.run(
            lambda conn: queries.refresh_stale_link(conn, repository, digest, after)
        )

    def local_path(self, digest: Digest) -> Path | None:
        return self.driver.local_path(blob_path(digest))

    async def redirect_url(self, digest: Digest, method: str = "GET") -> str | None:
        return await self.driver.redirect_url(blob_path(digest), method)

    def open(self, digest: Digest, offset: int = 0) -> AsyncIterator[bytes]:
        return self.driver.reader(blob_path(digest), offset)

    async def mount(self, repository: str, digest: Digest, source: str) -> bool:
        """Link a blob of `source` into `repository`; False when `source` lacks it."""

        async def link(conn: AsyncConnection) -> bool:
            size = await conn.scalar(
                queries.LINKED_BLOB_SIZE, {"repo": source, "digest": str(digest)}
            )
            if size is None:
                return False
            repo_id = await queries.ensure_repository(conn, repository)
            await queries.add_blob(conn, repo_id, str(digest), size)
            return True

        return await self.writer.run(link)

    async def stored_size(self, digest: Digest) -> int | None:
        """The size of a blob the hub stores for any repository, None when it has none."""
        rows = await self.reads.fetch(queries.STORED_BLOB_SIZE, {"digest": str(digest)})
        return int(rows[0][0]) if rows else None

    async def link_stored(self, repository: str, digest: Digest) -> bool:
        """Link a blob the hub stores for any repository into `repository` as well.

        Callers decide whether the caller may have the blob: this checks nothing but presence.
        Returns False when the hub does not store it (or its bytes are gone).
        """

        async def link(conn: AsyncConnection) -> bool:
            size = await conn.scalar(queries.STORED_BLOB_SIZE, {"digest": str(digest)})
            if size is None:
                return False
            repo_id = await queries.ensure_repository(conn, repository)
            await queries.add_blob(conn, repo_id, str(digest), size)
            return True

        # The row first, then the bytes (as an upload does): a collector that took the row just
        # before has moved the bytes away, and the check below sees that.
        if not await self.writer.run(link):
            return False
        try:
            await self.driver.stat(blob_path(digest))
        except PathNotFoundError:
            await self.writer.run(lambda conn: queries.unlink_blob(conn, repository, str(digest)))
            return False
        return True

    async def unlink(self, repository: str, digest: Digest) -> None:
        """Remove the blob from the repository; the bytes stay until garbage collection.

        Raises:
            BlobUnknownError: it was not linked there.
        """
        if not await self.writer.run(
            lambda conn: queries.unlink_blob(conn, repository, str(digest))
        ):
            raise BlobUnknownError(digest=str(digest))
