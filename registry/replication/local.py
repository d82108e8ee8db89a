"""This hub as a replication endpoint, over its own services (no HTTP, no tokens).

Blobs are written through the upload service (verified against their digest, stored once in
the content-addressed store) and manifests through the manifest service, so a replicated push
is checked, charged to quotas, held by immutability rules and announced to webhooks as any
push is. A mount links a blob the hub already stores for any repository.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from registry.db.hub_queries import Visibility
from registry.errors import BlobUnknownError, ManifestUnknownError, NameUnknownError
from registry.oci.digest import Digest, DigestError
from registry.oci.manifest import Descriptor
from registry.replication.endpoint import BlobStream, Fetched
from registry.replication.rules import repository_matches
from registry.services.blobs import BlobService
from registry.services.manifests import ManifestService, parse_reference
from registry.services.uploads import UploadService
from registry.webhooks.events import Cause

__all__ = ["HubEndpoint"]

PAGE = 1000  # catalog rows read at a time


class HubEndpoint:
    """The hub's repositories.

    Args:
        cause: who the hub's webhook events name for replicated pushes.
    """

    name = "this hub"
    mounts_anywhere = True

    def __init__(
        self,
        manifests: ManifestService,
        blobs: BlobService,
        uploads: UploadService,
        cause: Cause,
    ) -> None:
        self.manifests = manifests
        self.blobs = blobs
        self.uploads = uploads
        self.cause = cause

    async def repositories(self, pattern: str) -> list[str]:
        found: list[str] = []
        last = None
        while True:
            page = await self.manifests.catalog(PAGE, last, Visibility(everything=True))
            found += [name for name in page if repository_matches(name, pattern)]
            if len(page) < PAGE:
                return found
            last = page[-1]

    async def tags(self, repository: str) -> list[str]:
        try:
            return await self.manifests.tags(repository, None, None)
        except NameUnknownError:
            return []

    async def manifest(self, repository: str, reference: str) -> Fetched | None:
        try:
            record = await self.manifests.get(repository, parse_reference(reference))
        except ManifestUnknownError:
            return None
        return Fetched(bytes(record.payload), record.media_type)

    async def manifest_digest(self, repository: str, reference: str) -> Digest | None:
        try:
            record = await self.manifests.get(repository, parse_reference(reference))
        except ManifestUnknownError:
            return None
        return Digest.parse(record.digest)

    async def has_blob(self, repository: str, digest: Digest) -> bool:
        try:
            await self.blobs.stat(repository, digest)
        except BlobUnknownError:
            return False
        return True

    async def mount_blob(self, repository: str, digest: Digest, source: str) -> bool:
        # Any repository's copy will do: replication is a hub administrator's doing.
        return await self.blobs.link_stored(repository, digest)

    @contextlib.asynccontextmanager
    async def read_blob(self, repository: str, digest: Digest) -> AsyncIterator[BlobStream]:
        size = await self.blobs.stat(repository, digest)
        chunks = self.blobs.open(digest)
        try:
            yield BlobStream(size, chunks)
        finally:
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]

    async def write_blob(self, repository: str, digest: Digest, blob: BlobStream) -> None:
        await self.uploads.put_monolithic(repository, digest, blob.chunks, blob.size)

    async def put_manifest(
        self, repository: str, reference: str, payload: bytes, media_type: str | None
    ) -> None:
        await self.manifests.put(
            repository, parse_reference(reference), payload, media_type, self.cause
        )

    async def referrers(self, repository: str, digest: Digest) -> list[Descriptor]:
        found = []
        for record in await self.manifests.referrers(repository, digest, None):
            with contextlib.suppress(DigestError):
                found.append(
                    Descriptor(
                        record.media_type,
                        Digest.parse(record.digest),
                        record.size,
                        record.artifact_type,
                        record.annotations,
                    )
                )
        return found
