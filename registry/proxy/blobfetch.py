"""One upstream fetch per missing blob, its bytes streamed to every client that asks meanwhile.

The first request for a blob the hub lacks starts a `BlobFetch` in a task of its own (a client
that goes away does not stop it); later requests for the same digest in this process join it.
The fetch writes through `UploadService.put_monolithic`, which verifies size and digest before
the bytes reach their content-addressed path and the database links them: a cut or corrupt
fetch is never stored as complete.

Readers do not get the bytes from memory: the storage contract shows a writer's bytes only once
committed (an object store cannot serve an unfinished upload), so the fetch also appends them to
a spill file of its own, unnamed in the hub's data directory (`proxy-spill/`; gone with its last
descriptor, even after a crash), and every reader sends from there, at its own pace, by offset.
The hub holds a few chunks of a fetch in memory however large the blob and however many read it.
Readers may send every byte but the latest chunk's as soon as it is in the spill file; that one
is held back until the whole blob matched its digest, so no client receives a complete body that
is not the blob; the store's commit then runs while it goes out. A fetch that fails before that
ends every reader's stream short (their connections are cut, so `Content-Length` tells them).
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

logger = logging.getLogger(__name__)

__all__ = ["BlobFetch", "BlobFetcher", "FetchReader"]

RELAY_CHUNK = 1 << 20  # bytes gathered from the upstream before they go to store and spill file


class BlobFetch:
    """The state of one blob's fetch, shared by the task writing it and every reader.

    Args:
        spill: a descriptor of the fetch's spill file, which the fetch owns from now on.
    """

    def __init__(self, digest: Digest, repository: str, spill: int) -> None:
        self.digest = digest
        self.repository = repository  # where the blob is linked first
        self.size: int | None = None  # the upstream's Content-Length, once it answered
        self.verified = False  # every byte arrived and matched the digest; storing may go on
        self._spill: int | None = spill
        self._spilled = 0  # bytes in the spill file
        self._writing: asyncio.Future[bytes] | None = None  # the spill write in flight
        self._readable = 0  # bytes of the spill file readers may send
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

    async def spill(self, pieces: list[bytes]) -> bytes:
        """Append `pieces` to the spill file as one chunk; readers may send what came before.

        Returns:
            the chunk, for the store.
        """
        assert self._spill is not None, "spill after close"
        self._writing = asyncio.ensure_future(
            asyncio.to_thread(_append, self._spill, pieces, self._spilled)
        )
        chunk = await asyncio.shield(self._writing)
        held_from, self._spilled = self._spilled, self._spilled + len(chunk)

        def change() -> None:
            self._readable = held_from

        await self._update(change)
        return chunk

    async def release(self) -> None:
        """Every byte arrived and matched the digest: readers may send the last chunk too."""

        def change() -> None:
            self.verified, self._readable = True, self._spilled

        await self._update(change)

    async def finish(self, error: BaseException | None) -> None:
        def change() -> None:
            self._finished, self._error = True, error

        await self._update(change)

    def close_spill(self) -> None:
        """Close the fetch's descriptor of the spill file (readers keep their own)."""
        spill, self._spill = self._spill, None
        if spill is None:
            return
        if self._writing is not None and not self._writing.done():
            # A worker still writes to it (the fetch was cancelled meanwhile).
            self._writing.add_done_callback(lambda _: os.close(spill))
        else:
            os.close(spill)

    def reader(self) -> FetchReader:
        """A reader of the fetch's bytes, holding its own descriptor of the spill file.

        Only while the fetch runs (`BlobFetcher.join` takes one in the same step).
        """
        assert self._spill is not None, "reader of a finished fetch"
        return FetchReader(self, os.dup(self._spill))

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
        """(offset, count) of the spill file, from the first byte, as readers may send them.

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
    """One client's view of a fetch: its ranges and its own descriptor of the spill file.

    Closing it (or leaving its `with` block) closes the descriptor.
    """

    def __init__(self, fetch: BlobFetch, spill: int) -> None:
        self.fetch = fetch
        self.spill = spill

    def __enter__(self) -> FetchReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.spill >= 0:
            os.close(self.spill)
            self.spill = -1


def _append(fd: int, pieces: list[bytes], offset: int) -> bytes:
    """Join `pieces` and write them at `offset` (readers share the file position: not used)."""
    chunk = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    view = memoryview(chunk)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
    return chunk


class BlobFetcher:
    """Single-flight blob fetches of one hub process, keyed by digest.

    Args:
        uploads: stores the verified bytes and links them into the repository.
        spill_dir: where fetches keep their spill files (created, owner only).
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
        `repository`.

        Raises:
            OSError: the spill file could not be made.
        """
        running = self._fetches.get(digest)
        if running is not None:
            return running.reader()
        self.spill_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fetch = BlobFetch(digest, repository, _spill_file(self.spill_dir))
        reader = fetch.reader()
        self._fetches[digest] = fetch
        task = asyncio.create_task(
            self._run(fetch, upstream, upstream_repository, repository)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        # Here, not in the task: a task cancelled before it ran never reaches its `finally`.
        task.add_done_callback(lambda _: fetch.close_spill())
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
                await self.uploads.put_monolithic(
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


def _spill_file(directory: Path) -> int:
    """A new file in `directory` without a name (removed with its last descriptor)."""
    with contextlib.suppress(OSError):  # O_TMPFILE: Linux, on most local filesystems
        return os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o600)
    fd, name = tempfile.mkstemp(dir=directory, prefix="spill-")
    os.unlink(name)
    return fd


async def _relayed(response: aiohttp.ClientResponse, fetch: BlobFetch,
                   url: str) -> AsyncIterator[bytes]:
    """The upstream's body for the store, each chunk in the spill file before the store has it.

    Pieces are taken as the connection received them (`iter_chunks`: `iter_any` would join
    everything buffered, a copy of every byte on the event loop) and gathered into chunks of
    `RELAY_CHUNK` bytes, joined and spilled in one worker thread: the store hashes and writes
    large chunks in worker threads, and each piece would cost a thread hop.
    """
    pieces: list[bytes] = []
    gathered = 0
    try:
        async for piece, _ in response.content.iter_chunks():
            pieces.append(piece)
            gathered += len(piece)
            if gathered >= RELAY_CHUNK:
                chunk = await fetch.spill(pieces)
                pieces, gathered = [], 0
                yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamUnavailableError(
            f"upstream {url} broke off sending {fetch.digest}: {exc or type(exc).__name__}",
            upstream=url,
        ) from exc
    if pieces:
        yield await fetch.spill(pieces)
