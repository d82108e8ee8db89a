"""The one contract a copy goes through: a registry's repositories, tags, manifests and blobs.

Two implementations: `registry.replication.local.HubEndpoint` (this hub, over its services)
and `registry.replication.remote.RemoteEndpoint` (any registry speaking the distribution
API). A blob is read as a stream and written from one, never held whole in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor

__all__ = ["BlobStream", "Endpoint", "Fetched"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """A manifest's bytes and media type."""

    payload: bytes
    media_type: str | None


@dataclass(frozen=True, slots=True)
class BlobStream:
    """A blob being read: its size (when known) and its bytes, chunk by chunk."""

    size: int | None
    chunks: AsyncIterator[bytes]


class Endpoint(Protocol):
    """A registry as a copy sees it. Missing things are None or False, never errors."""

    name: str  # for messages: "this hub", or the remote's URL
    mounts_anywhere: bool  # whether a mount needs no source repository (the hub links any blob)

    async def repositories(self, pattern: str) -> list[str]:
        """The repository names matching the glob."""

    async def tags(self, repository: str) -> list[str]:
        """The repository's tags (empty when it does not exist)."""

    async def manifest(self, repository: str, reference: str) -> Fetched | None:
        """The manifest a tag or digest names, None when there is none."""

    async def manifest_digest(self, repository: str, reference: str) -> Digest | None:
        """The digest a tag or digest names here, None when there is none."""

    async def has_blob(self, repository: str, digest: Digest) -> bool: ...

    async def mount_blob(self, repository: str, digest: Digest, source: str) -> bool:
        """Link a blob held by `source` (a repository here) into `repository`, if possible."""

    def read_blob(
        self, repository: str, digest: Digest
    ) -> AbstractAsyncContextManager[BlobStream]: ...

    async def write_blob(self, repository: str, digest: Digest, blob: BlobStream) -> None:
        """Store a blob from its stream (verified against `digest` by whoever stores it)."""

    async def put_manifest(
        self, repository: str, reference: str, payload: bytes, media_type: str | None
    ) -> None: ...

    async def referrers(self, repository: str, digest: Digest) -> list[Descriptor] | None:
        """The descriptors of the manifests whose subject is `digest` (the OCI 1.1 referrers
        API), or None when the registry has no referrers API (it answers 404): its referrers
        are then listed by the referrers tag schema (`registry.oci.referrers_tag`)."""
