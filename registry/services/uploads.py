"""Resumable blob uploads (distribution-spec "Pushing blobs").

State lives in the storage driver, never only in a process: `uploads/<id>/data` holds the
bytes received so far and `uploads/<id>/info.json` the owning repository, so any hub process
sharing the storage can continue an upload. The rules, in order:

1. `start` creates the session; `append` accepts a chunk only at the current end (else
   `RangeInvalidError`, which the API turns into 416 with the current range).
2. `complete` appends the last chunk, then verifies the digest over every byte, then links the
   blob into the repository, then stores the bytes at the content-addressed path (atomic),
   then removes the session. A failure before that leaves no visible blob: only verified bytes
   ever reach a content-addressed path, and the bytes at one are not served without a row.
3. `cancel` removes the session and its bytes.

A running digest per session is cached in this process to avoid re-reading the data; then the
writer lands the verified bytes straight at the content-addressed path (`commit_to`: one PUT
for a buffered monolithic push on S3). The cache holds only while the writer's size and version
are what this process left (`FileWriter.version`); when it misses (another process took the
earlier chunks, or raced this one) the data is committed in place, re-hashed from storage and
then moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db import queries
from registry.db.writer import Writer
from registry.errors import (
    BlobUploadInvalidError,
    BlobUploadUnknownError,
    DigestInvalidError,
    RangeInvalidError,
    SizeInvalidError,
)
from registry.oci.digest import Digest, Digester
from registry.storage.driver.base import FileWriter, PathNotFoundError, StorageDriver
from registry.storage.paths import blob_path, upload_data_path, upload_dir, upload_info_path

logger = logging.getLogger(__name__)

__all__ = ["UploadService", "UploadStatus"]

# Session ids are str(uuid4()); anything else is unknown before it can reach a storage path.
_UPLOAD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class UploadStatus:
    upload_id: str
    size: int


class UploadService:
    """Upload sessions over a storage driver, committing blobs into the database."""

    def __init__(self, driver: StorageDriver, writer: Writer) -> None:
        self.driver = driver
        self.writer = writer
        # upload id -> the running digest of the bytes this process wrote, and the writer's
        # version it holds for (see `FileWriter.version`)
        self._digesters: dict[str, tuple[Digester, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, upload_id: str) -> asyncio.Lock:
        return self._locks.setdefault(upload_id, asyncio.Lock())

    async def start(self, repository: str) -> UploadStatus:
        upload_id = str(uuid.uuid4())
        info = {"repository": repository, "started_at": time.time()}
        await asyncio.gather(
            self.driver.put_content(upload_info_path(upload_id), json.dumps(info).encode()),
            self.driver.put_content(upload_data_path(upload_id), b""),
        )
        self._digesters[upload_id] = (Digester(), "")
        return UploadStatus(upload_id, 0)

    def _take_digest(self, upload_id: str, writer: FileWriter) -> Digester | None:
        """The cached running digest, when it covers exactly the bytes the writer resumes."""
        cached = self._digesters.pop(upload_id, None)
        if cached is None:
            return None
        digester, version = cached
        if digester.size != writer.size or version != writer.version:
            return None  # another process wrote in between; re-hash at completion
        return digester

    async def _check_session(self, repository: str, upload_id: str) -> None:
        if not _UPLOAD_ID.fullmatch(upload_id):
            raise BlobUploadUnknownError(upload_id=upload_id)
        try:
            info = json.loads(await self.driver.get_content(upload_info_path(upload_id)))
        except (PathNotFoundError, ValueError) as exc:
            raise BlobUploadUnknownError(upload_id=upload_id) from exc
        if info.get("repository") != repository:
            raise BlobUploadUnknownError(upload_id=upload_id)

    async def status(self, repository: str, upload_id: str) -> UploadStatus:
        """Bytes received so far.

        Raises:
            BlobUploadUnknownError: no such session in this repository.
        """
        await self._check_session(repository, upload_id)
        info = await self.driver.stat(upload_data_path(upload_id))
        return UploadStatus(upload_id, info.size)

    async def append(
        self,
        repository: str,
        upload_id: str,
        body: AsyncIterator[bytes],
        *,
        start: int | None = None,
        length: int | None = None,
    ) -> UploadStatus:
        """Append a chunk at the current end of the upload.

        Args:
            start: the chunk's first byte offset from `Content-Range`, if the client sent one.
            length: the declared chunk length, checked against what arrived.

        Raises:
            BlobUploadUnknownError, RangeInvalidError, SizeInvalidError.
        """
        await self._check_session(repository, upload_id)
        async with self._lock(upload_id):
            writer = await self.driver.writer(upload_data_path(upload_id), append=True)
            digester = self._take_digest(upload_id, writer)
            try:
                size = await self._receive(upload_id, writer, body, start, length, digester)
            finally:
                # Persist, do not complete: object stores keep a resumable session this way
                # (see StorageDriver); completion happens once, in `complete`.
                await writer.close()
            # Cached only once every byte is stored: a failed chunk leaves no stale digest.
            if digester is not None:
                self._digesters[upload_id] = (digester, writer.version)
            return UploadStatus(upload_id, size)

    async def _receive(
        self,
        upload_id: str,
        writer: FileWriter,
        body: AsyncIterator[bytes],
        start: int | None,
        length: int | None,
        digester: Digester | None,
    ) -> int:
        """Write a chunk at the writer's end, updating `digester`. Returns the new size."""
        begin = writer.size
        if start is not None and start != begin:
            raise RangeInvalidError(
                f"chunk starts at {start}, upload has {begin} bytes",
                current_size=begin,
                upload_id=upload_id,
            )
        await _store(writer, body, digester)
        received = writer.size - begin
        if length is not None and received != length:
            # Bytes stay (resumable), but the client must know its chunk was not what it said.
            raise SizeInvalidError(
                f"declared {length} bytes, received {received}", upload_id=upload_id
            )
        return writer.size

    async def _rehash(self, upload_id: str, algorithm: str) -> Digester:
        digester = Digester(algorithm)
        async for chunk in self.driver.reader(upload_data_path(upload_id)):
            digester.update(chunk)
        return digester

    async def complete(
        self,
        repository: str,
        upload_id: str,
        digest: Digest,
        body: AsyncIterator[bytes] | None = None,
        length: int | None = None,
    ) -> int:
        """Append an optional last chunk, verify, commit and link the blob. Returns its size.

        Raises:
            BlobUploadUnknownError, DigestInvalidError, SizeInvalidError.
        """
        await self._check_session(repository, upload_id)
        async with self._lock(upload_id):
            data_path = upload_data_path(upload_id)
            # A PUT with the whole blob in its body is a monolithic push: the hint lets the
            # driver hold it and store it once, at its final path.
            writer = await self.driver.writer(data_path, append=True, expected_size=length)
            digester = self._take_digest(upload_id, writer)
            try:
                if body is not None:
                    await self._receive(upload_id, writer, body, None, length, digester)
                if digester is not None and digester.algorithm == digest.algorithm:
                    _verify(digester, digest)
                    size = digester.size
                    await self._publish(repository, writer, digest, size)
                else:
                    await writer.commit()
                    digester = await self._rehash(upload_id, digest.algorithm)
                    _verify(digester, digest)
                    size = digester.size
                    await self._commit_blob(repository, data_path, digest, size)
            finally:
                await writer.close()  # keeps the session resumable when anything failed
            await self._remove(upload_id)
        return size

    async def put_monolithic(
        self,
        repository: str,
        digest: Digest,
        body: AsyncIterator[bytes],
        length: int | None,
        on_verified: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """A whole blob in one request (`POST ...?digest=`). Returns its size.

        Args:
            on_verified: awaited once every byte arrived and matched the digest, before the
                blob is stored (a pull-through cache releases its last bytes to clients then).

        Raises:
            DigestInvalidError, SizeInvalidError.
        """
        upload_id = str(uuid.uuid4())
        writer = await self.driver.writer(upload_data_path(upload_id), expected_size=length)
        digester = Digester(digest.algorithm)
        try:
            await _store(writer, body, digester)
            if length is not None and digester.size != length:
                raise SizeInvalidError(f"declared {length} bytes, received {digester.size}")
            _verify(digester, digest)
            if on_verified is not None:
                await on_verified()
            await self._publish(repository, writer, digest, digester.size)
        except BaseException:
            await writer.cancel()
            raise
        finally:
            await self._remove(upload_id)
        return digester.size

    async def _link_blob(self, repository: str, digest: Digest, size: int) -> bool:
        """Record the blob; True when its bytes must still be stored."""
        # Database first, bytes second: an online GC that removed this blob's row just before
        # may be moving the bytes away right now; it restores them when it sees the row again,
        # and this check finds them missing when it came later (registry.services.gc).

        async def link(conn: AsyncConnection) -> None:
            repo_id = await queries.ensure_repository(conn, repository)
            await queries.add_blob(conn, repo_id, str(digest), size)

        await self.writer.run(link)
        try:
            existing = await self.driver.stat(blob_path(digest))
        except PathNotFoundError:
            return True
        return existing.size != size

    async def _publish(
        self, repository: str, writer: FileWriter, digest: Digest, size: int
    ) -> None:
        """Link verified bytes still in `writer` and land them at the blob's path."""
        if await self._link_blob(repository, digest, size):
            await writer.commit_to(blob_path(digest))
        else:
            await writer.cancel()  # the same bytes are already there

    async def _commit_blob(
        self, repository: str, data_path: str, digest: Digest, size: int
    ) -> None:
        """Link verified bytes committed at `data_path` and move them to the blob's path."""
        if await self._link_blob(repository, digest, size):
            await self.driver.move(data_path, blob_path(digest))

    async def cancel(self, repository: str, upload_id: str) -> None:
        await self._check_session(repository, upload_id)
        async with self._lock(upload_id):
            await self._remove(upload_id)

    async def _remove(self, upload_id: str) -> None:
        self._digesters.pop(upload_id, None)
        self._locks.pop(upload_id, None)
        with contextlib.suppress(PathNotFoundError):
            await self.driver.delete(upload_dir(upload_id))


HASH_IN_THREAD_MIN = 256 * 1024  # bytes: a chunk at least this large is hashed off the loop


async def _store(writer: FileWriter, body: AsyncIterator[bytes], digester: Digester | None) -> None:
    """Write and hash `body`, one chunk in the works while the loop receives the next.

    Hashing a large chunk runs in a worker thread beside the driver's write (both release the
    GIL), so receiving, hashing and writing overlap. Chunks stay in order: one at a time.
    While a chunk is in the works, arriving bytes gather in the request's buffer, so the next
    chunk is larger and the thread hops fewer when the disk is the slower side.
    """
    pending: asyncio.Future[Any] | None = None
    try:
        async for chunk in body:
            if pending is not None:
                await pending
            if digester is None:
                pending = asyncio.ensure_future(writer.write(chunk))
            elif len(chunk) >= HASH_IN_THREAD_MIN:
                pending = asyncio.gather(
                    writer.write(chunk), asyncio.to_thread(digester.update, chunk)
                )
            else:
                digester.update(chunk)
                pending = asyncio.ensure_future(writer.write(chunk))
    finally:
        if pending is not None:
            await pending  # the last chunk lands before anyone touches the writer again


def _verify(digester: Digester, digest: Digest) -> None:
    if digester.digest() != digest:
        raise DigestInvalidError(f"upload has digest {digester.digest()}", digest=str(digest))


def parse_content_range(value: str) -> tuple[int, int]:
    """`start-end` (inclusive), as clients send on PATCH.

    Raises:
        BlobUploadInvalidError: malformed.
    """
    try:
        start_text, end_text = value.removeprefix("bytes ").removeprefix("bytes=").split("-", 1)
        start, end = int(start_text), int(end_text)
    except ValueError as exc:
        raise BlobUploadInvalidError(f"malformed Content-Range {value!r}") from exc
    if start < 0 or end < start:
        raise BlobUploadInvalidError(f"malformed Content-Range {value!r}")
    return start, end
