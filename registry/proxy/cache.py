"""Filling the hub's stores from upstream registries, for requests in proxy namespaces.

Manifests and tags land in the database through `ManifestService.put` (without the check that
their blobs are present: blobs arrive as they are pulled), blobs in the shared content-
addressed storage through `BlobFetcher`. What is stored is then served by the registry's own
handlers, with their ranges, conditionals and content negotiation.

Rules:
- A digest the repository has is served without asking the upstream: content does not change.
- A tag is revalidated by a HEAD to the upstream once `tag_ttl` seconds have passed since this
  process last did; when the digest changed, the new manifest is fetched and the tag moved.
- When the upstream is unreachable, answers 5xx or 429, a cached tag is served as it is, with
  a `Warning` header; with nothing cached the upstream's failure is the answer.
- A blob another repository of the hub holds is linked, not fetched again, once the upstream
  confirmed it has it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from registry.db.queries import ManifestRecord
from registry.errors import BlobUnknownError, DeniedError, ManifestUnknownError, RegistryError
from registry.hub.repositories import RepositoryService
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.oci.manifest import ManifestError, parse_manifest
from registry.proxy.blobfetch import BlobFetch, BlobFetcher, FetchReader
from registry.proxy.config import ProxyNamespace
from registry.proxy.upstream import (
    OUTAGES,
    UpstreamClient,
    UpstreamManifest,
    UpstreamNotFoundError,
    UpstreamUnavailableError,
)
from registry.services.blobs import BlobService
from registry.services.manifests import ManifestService

logger = logging.getLogger(__name__)

__all__ = ["Proxied", "ProxyCache"]

_MEMO_SIZE = 100_000  # revalidated tags remembered before the memo starts over


@dataclass(frozen=True, slots=True)
class Proxied:
    """A repository of a proxy namespace and where it comes from."""

    repository: str  # the hub's name, `<namespace>/<path>`
    namespace: ProxyNamespace
    upstream: UpstreamClient
    upstream_repository: str  # the upstream's name for it


class ProxyCache:
    """The pull-through cache of one hub process.

    Args:
        upstreams: a client for each proxy namespace.
        manifests, blobs, repositories: the hub's services the cache fills.
        fetcher: single-flight blob fetches.
        tag_ttl: seconds a tag is served from the cache before it is revalidated.
        mirror: the proxy namespace serving pulls of repositories the hub lacks, if any.
        max_manifest_bytes: the largest manifest taken from an upstream.
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        upstreams: Iterable[UpstreamClient],
        manifests: ManifestService,
        blobs: BlobService,
        repositories: RepositoryService,
        fetcher: BlobFetcher,
        *,
        tag_ttl: float,
        max_manifest_bytes: int,
        mirror: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstreams = {client.namespace.name: client for client in upstreams}
        self.manifests = manifests
        self.blobs = blobs
        self.repositories = repositories
        self.fetcher = fetcher
        self.tag_ttl = tag_ttl
        self.max_manifest_bytes = max_manifest_bytes
        self.mirror = mirror
        self.clock = clock
        # (repository, tag) -> (digest the upstream gave, clock time it was checked)
        self._validated: dict[tuple[str, str], tuple[str, float]] = {}

    def proxied(self, repository: str) -> Proxied | None:
        """Where `repository` comes from, or None when it is not in a proxy namespace."""
        namespace, _, path = repository.partition("/")
        client = self.upstreams.get(namespace)
        if client is None or not path:
            return None
        return Proxied(
            repository, client.namespace, client, client.namespace.upstream_repository(repository)
        )

    async def fill_manifest(self, proxied: Proxied, reference: Digest | str) -> str | None:
        """Make the manifest `reference` names available in the repository.

        Returns:
            A `Warning` header value when a cached tag is served because the upstream failed.

        Raises:
            ManifestUnknownError: the upstream has no such manifest.
            UpstreamUnavailableError, UpstreamThrottledError, DeniedError: the upstream
                failed and nothing is cached.
        """
        if isinstance(reference, Digest):
            if await self._cached(proxied.repository, reference) is None:
                await self._store(proxied, reference, reference)
            return None
        cached = await self._cached(proxied.repository, reference)
        key = (proxied.repository, reference)
        memo = self._validated.get(key)
        now = self.clock()
        if cached is not None and memo is not None and memo[0] == cached.digest and (
            now - memo[1] < self.tag_ttl
        ):
            return None
        try:
            digest = await proxied.upstream.head_manifest(proxied.upstream_repository, reference)
            if cached is None or digest is None or str(digest) != cached.digest:
                digest, fetched = await self._store(proxied, reference, digest)
                await self._fill_default_platform(proxied, fetched)
        except OUTAGES as exc:
            if cached is None:
                raise
            logger.warning("serving cached %s:%s: %s", proxied.repository, reference, exc)
            return f'111 berth "Revalidation Failed: {exc.message}"'
        except UpstreamNotFoundError as exc:
            raise ManifestUnknownError(
                f"upstream {proxied.upstream.url} has no manifest {reference} in "
                f"{proxied.upstream_repository}",
                reference=reference,
            ) from exc
        if len(self._validated) > _MEMO_SIZE:
            self._validated.clear()
        self._validated[key] = (str(digest), now)
        return None

    async def _cached(self, repository: str, reference: Digest | str) -> ManifestRecord | None:
        try:
            return await self.manifests.get(repository, reference)
        except ManifestUnknownError:
            return None

    async def _store(
        self, proxied: Proxied, reference: Digest | str, expected: Digest | None
    ) -> tuple[Digest, UpstreamManifest]:
        """Fetch a manifest (by `expected` when known) and store it under `reference`."""
        wanted = str(expected) if expected is not None else str(reference)
        try:
            fetched = await proxied.upstream.get_manifest(
                proxied.upstream_repository, wanted, self.max_manifest_bytes
            )
        except UpstreamNotFoundError as exc:
            raise ManifestUnknownError(
                f"upstream {proxied.upstream.url} has no manifest {wanted} in "
                f"{proxied.upstream_repository}",
                reference=str(reference),
            ) from exc
        if expected is not None and Digest.of(fetched.payload, expected.algorithm) != expected:
            raise UpstreamUnavailableError(
                f"upstream {proxied.upstream.url} served a manifest that does not match "
                f"{expected}",
                upstream=proxied.upstream.url,
            )
        stored = await self.manifests.put(
            proxied.repository,
            reference,
            fetched.payload,
            fetched.media_type,
            check_references=False,
            enforce_quota=False,  # a pull is no push; what the cache stores still counts
        )
        await self.repositories.pushed(proxied.repository)
        logger.info("cached %s:%s (%s) from %s", proxied.repository, reference, stored.digest,
                    proxied.upstream.url)
        return stored.digest, fetched

    async def _fill_default_platform(self, proxied: Proxied, fetched: UpstreamManifest) -> None:
        """With a tagged index, its linux/amd64 manifest too.

        Clients that cannot read indexes get that manifest for the tag (the manifest handler
        negotiates it from the stored index), so it must be there; a failure here only leaves
        those clients to an error, as it would without the cache.
        """
        if fetched.media_type not in mt.INDEX_TYPES:
            return
        try:
            index = parse_manifest(fetched.payload, fetched.media_type)
        except ManifestError:
            return
        for child in index.manifests:
            platform = child.platform or {}
            if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
                try:
                    await self.fill_manifest(proxied, child.digest)
                except (RegistryError, UpstreamNotFoundError) as exc:
                    logger.warning("caching the linux/amd64 manifest of an index of %s: %s",
                                   proxied.repository, exc)
                return

    async def has_blob(self, proxied: Proxied, digest: Digest) -> bool:
        """Whether the repository can serve the blob now (linking one the hub already has).

        A blob the hub stores for another repository is linked only once the upstream says it
        has it too (a HEAD): knowing a digest must not open a private repository's layers to
        whoever may pull from a proxy namespace.
        """
        try:
            await self.blobs.stat(proxied.repository, digest)
            return True
        except BlobUnknownError:
            pass
        if await self.blobs.stored_size(digest) is None:
            return False
        try:
            await proxied.upstream.head_blob(proxied.upstream_repository, digest)
        except (UpstreamNotFoundError, *OUTAGES, DeniedError):
            return False  # the fetch that follows gives the client the upstream's answer
        return await self.blobs.link_stored(proxied.repository, digest)

    async def stored_by_fetch(self, proxied: Proxied, digest: Digest) -> bool:
        """Whether a fetch in flight that already delivered every byte stored the blob.

        A client that got a blob's last byte may ask again (a range, a HEAD) while the fetch
        is still committing: it waits for that, then the stored blob answers.
        """
        fetch = self.fetcher.running(digest)
        if fetch is None or not fetch.verified:
            return False
        await fetch.wait_finished()
        return await self.has_blob(proxied, digest)

    async def upstream_blob_size(self, proxied: Proxied, digest: Digest) -> int | None:
        """The blob's size as the upstream reports it (a HEAD; nothing is stored).

        Raises:
            BlobUnknownError: the upstream has no such blob.
        """
        try:
            return await proxied.upstream.head_blob(proxied.upstream_repository, digest)
        except UpstreamNotFoundError as exc:
            raise BlobUnknownError(
                f"upstream {proxied.upstream.url} has no blob {digest} in "
                f"{proxied.upstream_repository}",
                digest=str(digest),
            ) from exc

    async def fetch_blob(self, proxied: Proxied, digest: Digest) -> FetchReader:
        """A reader of the blob's fetch (joined or started) once the upstream answered.

        The caller closes it.

        Raises:
            BlobUnknownError: the upstream has no such blob.
            UpstreamUnavailableError, UpstreamThrottledError, DeniedError: it failed.
        """
        reader = self.fetcher.join(
            proxied.upstream, proxied.upstream_repository, proxied.repository, digest
        )
        try:
            await reader.fetch.wait_started()
        except UpstreamNotFoundError as exc:
            reader.close()
            raise BlobUnknownError(
                f"upstream {proxied.upstream.url} has no blob {digest} in "
                f"{proxied.upstream_repository}",
                digest=str(digest),
            ) from exc
        except BaseException:
            reader.close()
            raise
        return reader

    async def fetched(self, proxied: Proxied, fetch: BlobFetch) -> None:
        """After a client got the whole blob: once it is stored, link it into `proxied` too,
        if the fetch was for another repository."""
        if fetch.repository == proxied.repository:
            return
        await fetch.wait_finished()
        if fetch.stored:
            await self.blobs.mount(proxied.repository, fetch.digest, fetch.repository)
