"""One upstream fetch per missing blob, its bytes streamed to every client that asks meanwhile.

The first request for a blob the hub lacks starts a `BlobFetch` in a task of its own (a client
that goes away does not stop it); later requests for the same digest in this process join it.
The fetch writes through `UploadService.put_monolithic`, which verifies size and digest before
the bytes reach their content-addressed path and the database links them: a cut or corrupt
fetch is never stored as complete.

Readers do not get the bytes from memory but from a file, each at its own pace, by offset: the
store's own file while it is being written, when the storage driver keeps it on a local disk
(the fetch's `UploadService` sees the driver through `_TappedDriver`, which reports each write);
else (an object store shows bytes only once committed) a spill file the fetch writes itself,
unnamed in the hub's data directory (`proxy-spill/`; gone with its last descriptor, even after a
crash). So a fetch holds a few pieces in memory however large the blob and however many read it.
Readers may send every byte but the latest write's as soon as it is in the file; those are
held back until the whole blob matched its digest, so no client receives a complete body that
is not the blob; the store's commit then runs while they go out. A fetch that fails before that
ends every reader's answer short (their connections are cut: `Content-Length`, or the missing
last chunk of a chunked answer, tells them).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp

from registry.oci.digest import Digest
from registry.proxy.upstream import UpstreamClient, UpstreamUnavailableError
from registry.services.uploads import UploadService
from registry.storage.driver.base import FileInfo, FileWriter, StorageDriver

logger = logging.getLogger(__name__)

__all__ = ["BlobFetch", "BlobFetcher", "FetchReader"]

SPILL_CHUNK = 1 << 20  # bytes of pieces a fetch that spills writes at a time
RECEIVE_SIZE = 1 << 20  # bytes the upstream's connection takes per read


class BlobFetch:
    """The state of one blob's fetch, shared by the task writing it and every reader."""

    def __init__(self, digest: Digest, repository: str) -> None:
        self.digest = digest
        self.repository = repository  # where the blob is linked first
        self.size: int | None = None  # the upstream's Content-Length, once it answered
        self.verified = False  # every byte arrived and matched the digest; storing may go on
        self.file: int | None = None  # a descriptor of the file readers send from, once made
        self.spills = False  # whether the fetch writes that file itself
        self._written = 0  # bytes in the file
        self._readable = 0  # bytes of it readers may send
        self._writing: asyncio.Future[None] | None = None  # a spill write in flight
        self._readers = 0
        self._ended = False  # the fetch's task is done
        self._started = False
        self._finished = False
        self._error: BaseException | None = None
        self._changed = asyncio.Condition()

    async def _update(self, change: Callable[[], None]) -> None:
        async with self._changed:
            change()
            self._changed.notify_all()

    async def started(self, size: int | None) -> None:
        def change() -> None:
            self.size, self._started = size, True

        await self._update(change)

    def read_from(self, file: int, *, spills: bool) -> None:
        """Readers send from `file` (a descriptor the fetch owns from now on)."""
        assert self.file is None, "a fetch has one file"
        self.file, self.spills = file, spills

    async def wrote(self, count: int) -> None:
        """`count` more bytes are in the file: readers may send those that came before."""
        held_from, self._written = self._written, self._written + count

        def change() -> None:
            self._readable = held_from

        await self._update(change)

    async def spill(self, pieces: list[bytes]) -> None:
        """Append `pieces` to the fetch's own spill file."""
        assert self.file is not None and self.spills, "no spill file"
        self._writing = asyncio.ensure_future(
            asyncio.to_thread(_append, self.file, pieces, self._written)
        )
        await asyncio.shield(self._writing)
        await self.wrote(sum(map(len, pieces)))

    async def release(self) -> None:
        """Every byte arrived and matched the digest: readers may send the bytes held back too."""

        def change() -> None:
            self.verified, self._readable = True, self._written

        await self._update(change)

    async def finish(self, error: BaseException | None) -> None:
        def change() -> None:
            self._finished, self._error = True, error

        await self._update(change)

    def reader(self) -> FetchReader:
        """A reader of the fetch's bytes; the file stays open until every reader closed."""
        self._readers += 1
        return FetchReader(self)

    def _leave(self) -> None:
        self._readers -= 1
        self._close_unused()

    def end(self) -> None:
        """The fetch's task is done: the file closes once no reader needs it."""
        self._ended = True
        self._close_unused()

    def _close_unused(self) -> None:
        if not self._ended or self._readers or self.file is None:
            return
        file, self.file = self.file, None
        if self._writing is not None and not self._writing.done():
            # A worker still writes to it (the fetch was cancelled meanwhile).
            self._writing.add_done_callback(lambda _: os.close(file))
        else:
            os.close(file)

    async def wait_finished(self) -> None:
        """Wait until the fetch stored the blob or failed."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._finished)

    @property
    def stored(self) -> bool:
        """Whether the fetch finished and stored the blob."""
        return self._finished and self._error is None

    async def wait_started(self) -> None:
        """Wait until the upstream answered.

        Raises:
            the fetch's error, when it failed before the upstream sent the blob.
        """
        async with self._changed:
            await self._changed.wait_for(lambda: self._started or self._finished)
            if not self._started and self._error is not None:
                raise self._error

    async def ranges(self) -> AsyncIterator[tuple[int, int]]:
        """(offset, count) of `file`, from the first byte, as readers may send them.

        Ends after the last byte of a verified blob, without waiting for the store's commit.

        Raises:
            the fetch's error (or `UpstreamUnavailableError`), after the ranges that came
            before it.
        """
        sent = 0

        def ready() -> bool:
            return self._readable > sent or self.verified or self._finished

        while True:
            async with self._changed:
                await self._changed.wait_for(ready)
                readable, verified, error = self._readable, self.verified, self._error
            if readable > sent:
                yield sent, readable - sent
                sent = readable
            elif verified:
                return
            else:
                raise error or UpstreamUnavailableError(f"the fetch of {self.digest} ended")


class FetchReader:
    """One client's hold on a fetch: its file stays open until the reader is closed."""

    def __init__(self, fetch: BlobFetch) -> None:
        self.fetch = fetch
        self._open = True

    @property
    def file(self) -> int:
        """The descriptor to send `fetch.ranges()` from (valid until `close`)."""
        assert self.fetch.file is not None and self._open, "no file to read"
        return self.fetch.file

    def __enter__(self) -> FetchReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._open:
            self._open = False
            self.fetch._leave()


def _append(fd: int, pieces: list[bytes], offset: int) -> None:
    """Write `pieces` at `offset` (readers move the file position: it is not used)."""
    views = [memoryview(piece) for piece in pieces if piece]
    while views:
        written = os.pwritev(fd, views, offset)
        offset += written
        while views and written >= len(views[0]):
            written -= len(views[0])
            views.pop(0)
        if views and written:
            views[0] = views[0][written:]


def _spill_file(directory: Path) -> int:
    """A new file in `directory` without a name (removed with its last descriptor)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # O_TMPFILE: Linux, on most local filesystems
        return os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o600)
    fd, name = tempfile.mkstemp(dir=directory, prefix="spill-")
    os.unlink(name)
    return fd


class _TappedWriter:
    """A storage writer that tells the fetch of every chunk written."""

    def __init__(self, writer: FileWriter, fetch: BlobFetch) -> None:
        self._writer = writer
        self._fetch = fetch

    @property
    def size(self) -> int:
        return self._writer.size

    @property
    def version(self) -> str:
        return self._writer.version

    async def write(self, chunk: bytes) -> None:
        await self._writer.write(chunk)
        await self._fetch.wrote(len(chunk))

    async def commit(self) -> None:
        await self._writer.commit()

    async def commit_to(self, dest: str) -> None:
        await self._writer.commit_to(dest)

    async def cancel(self) -> None:
        await self._writer.cancel()

    async def close(self) -> None:
        await self._writer.close()


class _TappedDriver:
    """The hub's storage driver as one fetch's store sees it.

    The blob's file is opened for the readers as soon as the store's writer made it, when the
    driver keeps it on a local disk (its writes are in the file as they return): readers send
    from the store's own bytes. Else the fetch spills to a file of its own.
    """

    def __init__(self, driver: StorageDriver, fetch: BlobFetch, spill_dir: Path) -> None:
        self.name = driver.name
        self._driver = driver
        self._fetch = fetch
        self._spill_dir = spill_dir

    async def writer(
        self, path: str, append: bool = False, expected_size: int | None = None
    ) -> FileWriter:
        writer = await self._driver.writer(path, append, expected_size)
        if self._fetch.file is not None or append:
            return writer
        local = self._driver.local_path(path)
        try:
            if local is not None:
                self._fetch.read_from(os.open(local, os.O_RDONLY), spills=False)
                return _TappedWriter(writer, self._fetch)
            self._fetch.read_from(_spill_file(self._spill_dir), spills=True)
        except OSError:
            await writer.cancel()
            raise
        return writer

    async def get_content(self, path: str) -> bytes:
        return await self._driver.get_content(path)

    async def put_content(self, path: str, data: bytes) -> None:
        await self._driver.put_content(path, data)

    def reader(self, path: str, offset: int = 0) -> AsyncIterator[bytes]:
        return self._driver.reader(path, offset)

    async def stat(self, path: str) -> FileInfo:
        return await self._driver.stat(path)

    async def list(self, path: str) -> list[str]:
        return await self._driver.list(path)

    async def move(self, source: str, dest: str) -> None:
        await self._driver.move(source, dest)

    async def delete(self, path: str) -> None:
        await self._driver.delete(path)

    def local_path(self, path: str) -> Path | None:
        return self._driver.local_path(path)

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        return await self._driver.redirect_url(path, method)


class BlobFetcher:
    """Single-flight blob fetches of one hub process, keyed by digest.

    Args:
        uploads: stores the verified bytes and links them into the repository.
        spill_dir: where fetches keep their spill files, when the storage is not on a local
            disk (created, owner only).
    """

    def __init__(self, uploads: UploadService, spill_dir: Path) -> None:
        self.uploads = uploads
        self.spill_dir = spill_dir
        self._fetches: dict[Digest, BlobFetch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def running(self, digest: Digest) -> BlobFetch | None:
        """The fetch of `digest` in flight in this process, if any."""
        return self._fetches.get(digest)

    def join(self, upstream: UpstreamClient, upstream_repository: str, repository: str,
             digest: Digest) -> FetchReader:
        """A reader of the fetch of `digest` in flight, or of a new one storing it into
        `repository`."""
        running = self._fetches.get(digest)
        if running is not None:
            return running.reader()
        fetch = self._fetches[digest] = BlobFetch(digest, repository)
        reader = fetch.reader()
        task = asyncio.create_task(
            self._run(fetch, upstream, upstream_repository, repository)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # Here, not in the task: a task cancelled before it ran never reaches its `finally`.
        task.add_done_callback(lambda _: fetch.end())
        return reader

    async def _run(self, fetch: BlobFetch, upstream: UpstreamClient, upstream_repository: str,
                   repository: str) -> None:
        # Until the blob is stored, readers must learn of any end, cancellation included.
        error: BaseException | None = UpstreamUnavailableError(
            f"the fetch of {fetch.digest} from {upstream.url} was cancelled", upstream=upstream.url
        )
        try:
            response = await upstream.get_blob(upstream_repository, fetch.digest)
            try:
                await fetch.started(response.content_length)
                _receive_more(response)
                store = UploadService(
                    _TappedDriver(self.uploads.driver, fetch, self.spill_dir), self.uploads.writer
                )
                await store.put_monolithic(
                    repository,
                    fetch.digest,
                    _relayed(response, fetch, upstream.url),
                    response.content_length,
                    on_verified=fetch.release,
                )
            finally:
                response.release()
            error = None
            logger.info("cached %s from %s", fetch.digest, upstream.url)
        except Exception as exc:  # every reader learns of it; nothing was stored
            logger.warning("fetching %s from %s failed: %s", fetch.digest, upstream.url, exc)
            error = exc
        finally:
            del self._fetches[fetch.digest]
            await fetch.finish(error)

    async def close(self) -> None:
        """Cancel the fetches still running (the hub is stopping)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _relayed(response: aiohttp.ClientResponse, fetch: BlobFetch,
                   url: str) -> AsyncIterator[bytes]:
    """The upstream's body for the store, in the pieces the connection received.

    Pieces go as they are (`iter_chunks`: `iter_any` would join everything buffered, a copy of
    every byte on the event loop; joining them in a worker costs a copy into fresh memory,
    dearer than the store's thread hops for each piece). A fetch that spills writes
    `SPILL_CHUNK` bytes of pieces at a time, in one worker thread, before the store has them.
    """
    pieces: list[bytes] = []
    gathered = 0
    try:
        async for piece, _ in response.content.iter_chunks():
            if not fetch.spills:
                yield piece
                continue
            pieces.append(piece)
            gathered += len(piece)
            if gathered >= SPILL_CHUNK:
                await fetch.spill(pieces)
                for spilled in pieces:
                    yield spilled
                pieces, gathered = [], 0
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamUnavailableError(
            f"upstream {url} broke off sending {fetch.digest}: {exc or type(exc).__name__}",
            upstream=url,
        ) from exc
    if pieces:
        await fetch.spill(pieces)
        for spilled in pieces:
            yield spilled


def _receive_more(response: aiohttp.ClientResponse) -> None:
    """Let a plain TCP connection take up to `RECEIVE_SIZE` bytes per read.

    asyncio reads 256 KiB at a time (`max_size`), and every piece costs thread hops (the
    store's write and hash, each reader's send); larger pieces need no copy to get there.
    """
    transport = response.connection.transport if response.connection is not None else None
    if transport is not None and getattr(transport, "max_size", None) is not None:
        transport.max_size = max(transport.max_size, RECEIVE_SIZE)
