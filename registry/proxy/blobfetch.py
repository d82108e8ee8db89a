"""One upstream fetch per missing blob, its bytes streamed to every client that asks meanwhile.

The first request for a blob the hub lacks starts a `BlobFetch` in a task of its own (a client
that goes away does not stop it); later requests for the same digest in this process join it.
The fetch writes through `UploadService.put_monolithic`, which verifies size and digest before
the bytes reach their content-addressed path and the database links them: a cut or corrupt
fetch is never stored as complete. Readers get every chunk as it arrives, except the last one,
which is held back until the whole blob matched its digest, so no client receives a complete
body that is not the blob; the store's commit then runs while that chunk goes out. A fetch
that fails before that ends every reader's stream short (their connections are cut, so
`Content-Length` tells them).

FIXME: the chunks of a fetch in flight are kept in memory for readers that joined late (the
storage contract lets readers see bytes only once committed); a blob of several GiB costs that
much memory while it is being fetched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import aiohttp

from registry.oci.digest import Digest
from registry.proxy.upstream import UpstreamClient, UpstreamUnavailableError
from registry.services.uploads import UploadService

logger = logging.getLogger(__name__)

__all__ = ["BlobFetch", "BlobFetcher"]

RELAY_CHUNK = 1 << 20  # bytes gathered from the upstream before they go to store and readers


class BlobFetch:
    """The state of one blob's fetch, shared by the task writing it and every reader."""

    def __init__(self, digest: Digest, repository: str) -> None:
        self.digest = digest
        self.repository = repository  # where the blob is linked first
        self.size: int | None = None  # the upstream's Content-Length, once it answered
        self._chunks: list[bytes] = []
        self._started = False
        self.verified = False  # every byte arrived and matched the digest; storing may go on
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

    async def add(self, chunk: bytes) -> None:
        await self._update(lambda: self._chunks.append(chunk))

    async def finish(self, error: BaseException | None) -> None:
        def change() -> None:
            self._finished, self._error = True, error

        await self._update(change)

    async def wait_finished(self) -> None:
        """Wait until the fetch stored the blob or failed."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._finished)

    async def wait_started(self) -> None:
        """Wait until the upstream answered.

        Raises:
            the fetch's error, when it failed before the upstream sent the blob.
        """
        async with self._changed:
            await self._changed.wait_for(lambda: self._started or self._finished)
            if not self._started and self._error is not None:
                raise self._error

    async def chunks(self) -> AsyncIterator[bytes]:
        """Every chunk from the first, as they arrive.

        Raises:
            the fetch's error, after the chunks that arrived before it.
        """
        sent = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda sent=sent: sent < len(self._chunks) or self._finished  # type: ignore[misc]
                )
                pending = self._chunks[sent:]
                finished, error = self._finished, self._error
            for chunk in pending:
                yield chunk
            sent += len(pending)
            if finished and sent >= len(self._chunks):
                if error is not None:
                    raise error
                return


class BlobFetcher:
    """Single-flight blob fetches of one hub process, keyed by digest.

    Args:
        uploads: stores the verified bytes and links them into the repository.
    """

    def __init__(self, uploads: UploadService) -> None:
        self.uploads = uploads
        self._fetches: dict[Digest, BlobFetch] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def running(self, digest: Digest) -> BlobFetch | None:
        """The fetch of `digest` in flight in this process, if any."""
        return self._fetches.get(digest)

    def fetch(self, upstream: UpstreamClient, upstream_repository: str, repository: str,
              digest: Digest) -> BlobFetch:
        """The fetch of `digest` in flight, or a new one storing it into `repository`."""
        running = self._fetches.get(digest)
        if running is not None:
            return running
        fetch = self._fetches[digest] = BlobFetch(digest, repository)
        task = asyncio.create_task(
            self._run(fetch, upstream, upstream_repository, repository)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return fetch

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
                held: list[bytes] = []

                async def release_held() -> None:
                    # Verified: the last bytes may go out while the blob is being stored.
                    fetch.verified = True
                    for chunk in held:
                        await fetch.add(chunk)

                await self.uploads.put_monolithic(
                    repository,
                    fetch.digest,
                    _relayed(response, fetch, held, upstream.url),
                    response.content_length,
                    on_verified=release_held,
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


async def _relayed(response: aiohttp.ClientResponse, fetch: BlobFetch, held: list[bytes],
                   url: str) -> AsyncIterator[bytes]:
    """The upstream's body for the store, relayed to readers one chunk behind.

    Pieces are taken as the connection received them (`iter_chunks`: `iter_any` would join
    everything buffered, a copy of every byte on the event loop) and gathered into chunks of
    `RELAY_CHUNK` bytes, joined in a worker thread: the store hashes and writes large chunks in
    worker threads, and each piece would cost a thread hop.
    """
    pieces: list[bytes] = []
    gathered = 0
    try:
        async for piece, _ in response.content.iter_chunks():
            pieces.append(piece)
            gathered += len(piece)
            if gathered < RELAY_CHUNK:
                continue
            chunk = await asyncio.to_thread(b"".join, pieces)
            pieces, gathered = [], 0
            if held:
                await fetch.add(held.pop())
            held.append(chunk)
            yield chunk
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UpstreamUnavailableError(
            f"upstream {url} broke off sending {fetch.digest}: {exc or type(exc).__name__}",
            upstream=url,
        ) from exc
    if pieces:
        if held:
            await fetch.add(held.pop())
        held.append(b"".join(pieces))
        yield held[0]
