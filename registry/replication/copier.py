"""Copying tags between two endpoints: a walk over each tag's descriptors, manifest last.

For a tag: the manifest or index it names, then, depth first, every child manifest, config
and layer it references, then the manifest itself (so the destination never holds a manifest
whose content it lacks), then what is attached to each digest copied: OCI 1.1 referrers
(the referrers API) and cosign's tags (`sha256-<hex>.sig`, `.att`, `.sbom`, and the
referrers tag schema's `sha256-<hex>`) when the source has them. A destination without the
referrers API (Distribution 2.8) gets the referrers tag schema's index instead, as the
distribution-spec asks of clients pushing referrers there: the index tagged `sha256-<hex>` is
read, the referrers it lacks are added, and it is pushed back (never overwritten when it is
not an index). Two copies updating one such index at the same moment may lose one's addition
(the spec's schema has no compare-and-swap); the next run adds it again.

What the destination has is skipped: a tag already naming the digest skips its whole tree
(a registry only accepts a manifest whose references it holds), a manifest or blob present
(HEAD) is not sent again. A blob already copied into another repository of the destination in
this run is mounted from there instead of sent again; the hub as destination links any blob it
stores. Foreign (non-distributable) layers are never copied.

Every request is retried after transient failures (unreachable, timeout, 5xx, 429) with an
exponential backoff, a few times; an item that still fails is recorded with its error and
the number of attempts, and the manifests that needed it are not pushed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp

from registry.errors import TooManyRequestsError, UnavailableError
from registry.hub.tag_patterns import matches
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor, ManifestError, parse_manifest
from registry.oci.referrers_tag import ReferrersTagError, fallback_tag, merged_index
from registry.replication.endpoint import Endpoint, Fetched

logger = logging.getLogger(__name__)

__all__ = ["Copier", "ItemError", "RetryPolicy", "Tally"]

T = TypeVar("T")

TRANSIENT = (
    UnavailableError,
    TooManyRequestsError,
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)
_FOREIGN = frozenset({mt.DOCKER_LAYER_FOREIGN})
_ATTACHED_SUFFIXES = (".sig", ".att", ".sbom", "")  # cosign's tags and the referrers tag schema


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4  # tries per item, the first included
    backoff: float = 1.0  # seconds before the second try; doubles each time
    max_backoff: float = 60.0  # seconds

    def delay(self, failed_attempts: int) -> float:
        return float(min(self.backoff * 2 ** (failed_attempts - 1), self.max_backoff))


@dataclass(frozen=True, slots=True)
class ItemError:
    """An item that could not be copied."""

    item: str  # `repository:tag`, `repository@digest`
    error: str
    attempts: int

    def to_dict(self) -> dict[str, object]:
        return {"item": self.item, "error": self.error, "attempts": self.attempts}


@dataclass(slots=True)
class Tally:
    """What a run did: manifests and blobs copied (sent or mounted), skipped and failed."""

    copied: int = 0
    skipped: int = 0
    failed: int = 0
    retries: int = 0
    errors: list[ItemError] = field(default_factory=list)


class _ItemFailedError(Exception):
    def __init__(self, error: ItemError) -> None:
        super().__init__(error.error)
        self.error = error


class Copier:
    """Copies from `source` to `destination`, counting in `tally`.

    Args:
        sleep: waits between retries (tests pass their own).
    """

    def __init__(
        self,
        source: Endpoint,
        destination: Endpoint,
        retry: RetryPolicy,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.source = source
        self.destination = destination
        self.retry = retry
        self.sleep = sleep
        self.tally = Tally()
        self._manifests: dict[tuple[str, Digest], bool] = {}  # (dst repo, digest) -> present
        self._blobs: dict[tuple[str, Digest], bool] = {}
        self._homes: dict[Digest, str] = {}  # a destination repository holding the blob
        self._attached: set[tuple[str, Digest]] = set()

    async def repositories(self, pattern: str) -> list[str]:
        """The source's repositories matching `pattern` (none when listing them fails)."""
        try:
            return await self._attempt(
                f"{self.source.name} repositories",
                lambda: self.source.repositories(pattern),
            )
        except _ItemFailedError as exc:
            self._record(exc.error)
            return []

    async def copy_repository(
        self, source_repo: str, destination_repo: str, tag_pattern: str, only: str | None = None
    ) -> None:
        """Copy the tags of `source_repo` matching `tag_pattern` (or just the tag `only`)."""
        try:
            tags = await self._attempt(source_repo, lambda: self.source.tags(source_repo))
        except _ItemFailedError as exc:
            self._record(exc.error)
            return
        for tag in sorted(tags):
            if matches(tag, tag_pattern) and (only is None or tag == only):
                await self.copy_tag(source_repo, destination_repo, tag, frozenset(tags))

    async def copy_tag(
        self, source_repo: str, destination_repo: str, tag: str, source_tags: frozenset[str]
    ) -> None:
        """Copy one tag and what is attached to it."""
        item = f"{source_repo}:{tag}"
        try:
            fetched = await self._attempt(item, lambda: self.source.manifest(source_repo, tag))
            if fetched is None:
                return  # deleted since it was listed
            digest = Digest.of(fetched.payload)
            there = await self._attempt(
                item, lambda: self.destination.manifest_digest(destination_repo, tag)
            )
            if there == digest:
                self.tally.skipped += 1
                self._manifests[(destination_repo, digest)] = True
            elif await self._content(source_repo, destination_repo, item, fetched):
                await self._put(destination_repo, tag, item, fetched)
                self._manifests[(destination_repo, digest)] = True
            else:
                self._record(ItemError(item, "not pushed: content it references failed", 1))
                return
        except _ItemFailedError as exc:
            self._record(exc.error)
            return
        await self._attachments(source_repo, destination_repo, digest, source_tags)

    async def _by_digest(
        self, source_repo: str, destination_repo: str, digest: Digest, source_tags: frozenset[str]
    ) -> bool:
        """Copy the manifest `digest` (untagged); whether the destination now has it."""
        key = (destination_repo, digest)
        if key in self._manifests:
            return self._manifests[key]
        item = f"{source_repo}@{digest}"
        self._manifests[key] = False
        try:
            there = await self._attempt(
                item, lambda: self.destination.manifest_digest(destination_repo, str(digest))
            )
            if there is not None:
                self.tally.skipped += 1
            else:
                fetched = await self._attempt(
                    item, lambda: self.source.manifest(source_repo, str(digest))
                )
                if fetched is None:
                    raise _ItemFailedError(ItemError(item, f"{self.source.name} lacks it", 1))
                if not await self._content(source_repo, destination_repo, item, fetched):
                    raise _ItemFailedError(
                        ItemError(item, "not pushed: content it references failed", 1)
                    )
                await self._put(destination_repo, str(digest), item, fetched)
        except _ItemFailedError as exc:
            self._record(exc.error)
            return False
        self._manifests[key] = True
        await self._attachments(source_repo, destination_repo, digest, source_tags)
        return True

    async def _content(
        self, source_repo: str, destination_repo: str, item: str, fetched: Fetched
    ) -> bool:
        """Copy what a manifest references; whether all of it is at the destination."""
        try:
            manifest = parse_manifest(fetched.payload, fetched.media_type)
        except ManifestError as exc:
            raise _ItemFailedError(ItemError(item, f"invalid manifest: {exc}", 1)) from exc
        complete = True
        for child in manifest.manifests:
            complete &= await self._by_digest(
                source_repo, destination_repo, child.digest, frozenset()
            )
        for blob in manifest.blobs:
            if blob.media_type not in _FOREIGN:
                complete &= await self._blob(source_repo, destination_repo, blob.digest)
        return complete

    async def _blob(self, source_repo: str, destination_repo: str, digest: Digest) -> bool:
        key = (destination_repo, digest)
        if key in self._blobs:
            return self._blobs[key]
        item = f"{source_repo}@{digest}"

        async def send() -> None:
            async with self.source.read_blob(source_repo, digest) as stream:
                await self.destination.write_blob(destination_repo, digest, stream)

        try:
            if await self._attempt(
                item, lambda: self.destination.has_blob(destination_repo, digest)
            ):
                self.tally.skipped += 1
            elif await self._mount(destination_repo, digest, item):
                self.tally.copied += 1
            else:
                await self._attempt(item, send)
                self.tally.copied += 1
        except _ItemFailedError as exc:
            self._record(exc.error)
            self._blobs[key] = False
            return False
        self._blobs[key] = True
        self._homes.setdefault(digest, destination_repo)
        return True

    async def _mount(self, destination_repo: str, digest: Digest, item: str) -> bool:
        home = self._homes.get(digest, "")
        if home == destination_repo or not (home or self.destination.mounts_anywhere):
            return False
        return await self._attempt(
            item, lambda: self.destination.mount_blob(destination_repo, digest, home)
        )

    async def _put(self, destination_repo: str, reference: str, item: str, got: Fetched) -> None:
        await self._attempt(
            item,
            lambda: self.destination.put_manifest(
                destination_repo, reference, got.payload, got.media_type
            ),
        )
        self.tally.copied += 1

    async def _attachments(
        self, source_repo: str, destination_repo: str, digest: Digest, source_tags: frozenset[str]
    ) -> None:
        key = (destination_repo, digest)
        if key in self._attached:
            return
        self._attached.add(key)
        item = f"{source_repo}@{digest} referrers"
        try:
            referrers = await self._attempt(
                item, lambda: self.source.referrers(source_repo, digest)
            )
        except _ItemFailedError as exc:
            self._record(exc.error)
            referrers = []
        referrers = referrers or []  # a source without the API lists them by the tag below
        for referrer in referrers:
            await self._by_digest(source_repo, destination_repo, referrer.digest, source_tags)
        for suffix in _ATTACHED_SUFFIXES:
            tag = f"{digest.algorithm}-{digest.hex}{suffix}"
            if tag in source_tags:
                await self.copy_tag(source_repo, destination_repo, tag, source_tags)
        copied = [r for r in referrers if self._manifests.get((destination_repo, r.digest))]
        if copied:
            await self._referrers_tag(destination_repo, digest, copied, item)

    async def _referrers_tag(
        self, destination_repo: str, subject: Digest, referrers: list[Descriptor], item: str
    ) -> None:
        """List `referrers` in the referrers tag schema's index of `subject`, when the
        destination has no referrers API to list them itself."""
        tag = fallback_tag(subject)
        try:
            listed = await self._attempt(
                item, lambda: self.destination.referrers(destination_repo, subject)
            )
            if listed is not None:
                return
            current = await self._attempt(
                item, lambda: self.destination.manifest(destination_repo, tag)
            )
            try:
                index = merged_index(
                    None if current is None else current.payload,
                    None if current is None else current.media_type,
                    referrers,
                )
            except ReferrersTagError as exc:
                raise _ItemFailedError(ItemError(f"{destination_repo}:{tag}", str(exc), 1)) from exc
            if index is not None:
                await self._put(destination_repo, tag, item, Fetched(index, mt.OCI_INDEX))
        except _ItemFailedError as exc:
            self._record(exc.error)

    async def _attempt(self, item: str, operation: Callable[[], Awaitable[T]]) -> T:
        attempt = 1
        while True:
            try:
                return await operation()
            except TRANSIENT as exc:
                if attempt >= self.retry.attempts:
                    raise _ItemFailedError(ItemError(item, _describe(exc), attempt)) from exc
                logger.info("replication: %s failed (%s), trying again", item, _describe(exc))
                self.tally.retries += 1
                await self.sleep(self.retry.delay(attempt))
                attempt += 1
            except _ItemFailedError:
                raise
            except Exception as exc:  # anything else will not get better by trying again
                raise _ItemFailedError(ItemError(item, _describe(exc), attempt)) from exc

    def _record(self, error: ItemError) -> None:
        logger.warning("replication: %s failed: %s", error.item, error.error)
        self.tally.failed += 1
        self.tally.errors.append(error)


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message)
