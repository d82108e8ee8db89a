"""Manifests, tags, the catalog and referrers of repositories.

A pushed manifest is accepted only when it parses, its digest matches the reference when the
reference is a digest, and every blob and child manifest it references is present in the same
repository (distribution-spec "Pushing Manifests"). A `subject` need not exist yet: the spec lets
referrers arrive before their subject.

A tag an immutability rule holds (`registry.hub.immutability`) is created once and then never
moves to another digest nor goes away (by tag, or with its manifest by digest), whoever asks;
re-pushing the digest it already names succeeds, as in Harbor. The check runs in the write's
own transaction.

A namespace with a storage quota (`registry.db.quota_queries`) refuses a push that would take
its usage past the limit. The check runs in the push's transaction too, after locking the
namespace's quota row (on PostgreSQL; SQLite has one writer), so concurrent pushes into one
namespace are checked one after another and cannot both slip under the limit; a refusal rolls
the whole push back. A push that adds no bytes (its manifest and blobs are stored in the
namespace already) is never refused. Namespaces without a quota pay one primary-key lookup;
those with one a few indexed lookups, and a count of their usage only near the limit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.auth.scopes import namespace_of
from registry.db import (
    hub_queries,
    immutability_queries,
    queries,
    quota_queries,
    replication_queries,
    webhook_queries,
)
from registry.db.hotreads import HotReads
from registry.db.hub_queries import Visibility
from registry.db.queries import ManifestRecord, ReferrerRecord
from registry.db.writer import Writer
from registry.errors import (
    DigestInvalidError,
    ManifestBlobUnknownError,
    ManifestInvalidError,
    ManifestUnknownError,
    NameUnknownError,
    QuotaExceededError,
    TagImmutableError,
)
from registry.hub.sizes import format_size
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest, DigestError
from registry.oci.manifest import ManifestError, parse_manifest
from registry.oci.reference import is_valid_tag
from registry.webhooks.events import ANONYMOUS_CAUSE, Cause, EventType

logger = logging.getLogger(__name__)

__all__ = ["ManifestService", "PushRecord", "PushedManifest"]

# Layers a client must fetch from elsewhere (Windows base layers): never in our store.
_FOREIGN_LAYER_TYPES = frozenset({mt.DOCKER_LAYER_FOREIGN})


PushRecord = Callable[[AsyncConnection, Digest], Awaitable[None]]
"""Writes a caller makes in a manifest push's transaction, given the manifest's digest."""


@dataclass(frozen=True, slots=True)
class PushedManifest:
    digest: Digest
    subject: Digest | None


def parse_reference(reference: str) -> Digest | str:
    """A digest or a tag from the `<reference>` path segment.

    Raises:
        ValueError: neither a valid digest nor a valid tag.
    """
    if ":" in reference:
        return Digest.parse(reference)
    if not is_valid_tag(reference):
        raise ValueError(f"invalid tag {reference!r}")
    return reference


class ManifestService:
    """Manifest, tag, catalog and referrer operations."""

    def __init__(
        self,
        engine: AsyncEngine,
        reads: HotReads,
        writer: Writer,
        events_recorded: Callable[[], None] = lambda: None,
    ) -> None:
        self.engine = engine
        self.reads = reads
        self.writer = writer
        # Called after a change that wrote webhook events commits (wakes the delivery worker).
        self.events_recorded = events_recorded

    async def get(self, repository: str, reference: Digest | str) -> ManifestRecord:
        """The stored manifest.

        Raises:
            ManifestUnknownError: no such tag or digest in the repository.
        """
        if isinstance(reference, Digest):
            statement, params = queries.MANIFEST_BY_DIGEST, {"digest": str(reference)}
        else:
            statement, params = queries.MANIFEST_BY_TAG, {"tag": reference}
        params["namespace"] = namespace_of(repository)
        rows = await self.reads.fetch(statement, {"repo": repository, **params})
        if not rows:
            raise ManifestUnknownError(reference=str(reference))
        return ManifestRecord(*rows[0])

    async def put(
        self,
        repository: str,
        reference: Digest | str,
        payload: bytes,
        content_type: str | None,
        cause: Cause = ANONYMOUS_CAUSE,
        *,
        check_references: bool = True,
        enforce_quota: bool = True,
        record: PushRecord | None = None,
    ) -> PushedManifest:
        """Validate and store a manifest, tagging it when the reference is a tag.

        A push by tag writes a `push` webhook event in the same transaction.

        Args:
            cause: who pushed, for the webhook event.
            record: more writes of the caller about this push (the Hub's repository profile
                and audit row), made in the push's own transaction with the manifest's
                digest: one commit per push, and no push stored without them.
            check_references: refuse a manifest whose blobs and child manifests are not in
                the repository; a pull-through cache stores them later, as they are pulled.
            enforce_quota: refuse a push over the namespace's quota; a pull-through cache
                fills what clients pull and is not refused (what it stores is still charged).

        Raises:
            ManifestInvalidError, DigestInvalidError, ManifestBlobUnknownError.
            QuotaExceededError: the namespace would go over its quota.
        """
        try:
            manifest = parse_manifest(payload, content_type)
        except ManifestError as exc:
            raise ManifestInvalidError(str(exc)) from exc
        algorithm = reference.algorithm if isinstance(reference, Digest) else "sha256"
        digest = Digest.of(payload, algorithm)
        if isinstance(reference, Digest) and digest != reference:
            raise DigestInvalidError(f"manifest has digest {digest}", digest=str(reference))
        blob_refs = [
            str(d.digest) for d in manifest.blobs if d.media_type not in _FOREIGN_LAYER_TYPES
        ]
        child_refs = [str(d.digest) for d in manifest.manifests]
        references = [(d, "blob") for d in blob_refs] + [(d, "manifest") for d in child_refs]

        namespace = namespace_of(repository)

        async def store(conn: AsyncConnection) -> int:
            # First, before any other row of the namespace is touched: pushes then queue on
            # this lock alone, and cannot deadlock on each other's links and manifests.
            quota = await quota_queries.locked_quota(conn, namespace)
            repo_id = await queries.ensure_repository(conn, repository)
            # Touching (not just reading) what the manifest references keeps an online GC
            # from removing it before this transaction commits (see registry.db.queries).
            missing = set(blob_refs) - await queries.touch_links(conn, repo_id, blob_refs)
            missing |= set(child_refs) - await queries.touch_manifests(conn, repo_id, child_refs)
            if missing and check_references:
                raise ManifestBlobUnknownError(digest=sorted(missing)[0])
            if quota is not None:
                added = await quota_queries.added_bytes(
                    conn, namespace, blob_refs, str(digest), len(payload)
                )
                await _charge(conn, namespace, *quota, added, refuse=enforce_quota)
            await queries.put_manifest(
                conn,
                repo_id,
                digest=str(digest),
                media_type=manifest.media_type,
                artifact_type=manifest.effective_artifact_type(),
                subject_digest=str(manifest.subject.digest) if manifest.subject else None,
                annotations=manifest.annotations or None,
                payload=payload,
                references=references,
            )
            deliveries = 0
            if isinstance(reference, str):
                await _tag(conn, repository, repo_id, reference, str(digest))
                event = cause.event(EventType.PUSH, repository, tag=reference, digest=str(digest))
                deliveries = await webhook_queries.record_event(conn, event, datetime.now(UTC))
                await replication_queries.note_push(conn, repository, reference, datetime.now(UTC))
            if record is not None:
                await record(conn, digest)
            return deliveries

        if await self.writer.run(store):
            self.events_recorded()
        return PushedManifest(digest, manifest.subject.digest if manifest.subject else None)

    async def delete(
        self, repository: str, reference: Digest | str, cause: Cause = ANONYMOUS_CAUSE
    ) -> None:
        """Delete by digest (the manifest and its tags) or by tag (only the tag).

        Every tag deleted (the one named, or those of the manifest deleted) writes a
        `tag_delete` webhook event in the same transaction.

        Raises:
            ManifestUnknownError: nothing to delete.
        """

        async def remove(conn: AsyncConnection) -> int | None:
            # None: nothing to delete; otherwise the webhook deliveries written.
            if isinstance(reference, Digest):
                removed = await queries.tags_at(conn, repository, str(reference))
                await _refuse_held(conn, repository, removed, "delete manifest")
                if not await queries.delete_manifest(conn, repository, str(reference)):
                    return None
            elif await queries.delete_tag(conn, repository, reference):
                # A tag that is not there is unknown, held or not; raising undoes the delete.
                await _refuse_held(conn, repository, [reference], "delete tag")
                removed = [reference]
            else:
                return None
            now = datetime.now(UTC)
            deliveries = 0
            for tag in removed:
                event = cause.event(EventType.TAG_DELETE, repository, tag=tag)
                deliveries += await webhook_queries.record_event(conn, event, now)
            return deliveries

        deliveries = await self.writer.run(remove)
        if deliveries is None:
            raise ManifestUnknownError(reference=str(reference))
        if deliveries:
            self.events_recorded()

    async def tags(self, repository: str, limit: int | None, last: str | None) -> list[str]:
        """Tags in lexical order after `last`, at most `limit`.

        Raises:
            NameUnknownError: the repository does not exist.
        """
        params = {"repo": repository, "last": last or "", "limit": _limit(limit)}
        rows = await self.reads.fetch(queries.TAGS_PAGE, params)
        # An empty page is ambiguous: only then ask whether the repository exists at all.
        if not rows and not await self.reads.fetch(queries.REPOSITORY_BY_NAME, params):
            raise NameUnknownError(name=repository)
        return [row[0] for row in rows]

    async def catalog(
        self, limit: int | None, last: str | None, visibility: Visibility
    ) -> list[str]:
        """One catalog page: repository names after `last`, in order, that `visibility` shows.

        The filter is part of the query, so a page costs one query however many repositories
        the caller may not see.
        """
        if visibility.everything:
            params = {"last": last or "", "limit": _limit(limit)}
            return [row[0] for row in await self.reads.fetch(queries.CATALOG_PAGE, params)]
        async with self.engine.connect() as conn:
            return await hub_queries.catalog_page(conn, visibility, last or "", _limit(limit))

    async def referrers(
        self, repository: str, subject: Digest, artifact_type: str | None
    ) -> list[ReferrerRecord]:
        async with self.engine.connect() as conn:
            return await queries.referrers(conn, repository, str(subject), artifact_type)


async def _tag(conn: AsyncConnection, repository: str, repo_id: int, tag: str, digest: str) -> None:
    """Point `tag` at `digest`, unless an immutability rule holds it at another digest."""
    held = await immutability_queries.matching_rule(conn, repository, [tag])
    if held is None:
        await queries.set_tag(conn, repo_id, tag, digest)
        return
    current = await queries.claim_tag(conn, repo_id, tag, digest)
    if current != digest:
        tag_name, rule = held
        raise TagImmutableError.held(
            repository,
            tag_name,
            rule.id,
            rule.pattern,
            rule.scope,
            f"overwrite (it names {current})",
        )


async def _charge(
    conn: AsyncConnection, namespace: str, limit: int, charged: int, added: int, *, refuse: bool
) -> None:
    """Add `added` bytes to the namespace's charge, or raise when that takes its usage past
    `limit` (and `refuse`).

    The charge never falls below the usage (`registry.db.quota_queries`), so a push that
    fits under it fits; only one that does not pays for counting the usage exactly, which
    deletes and the garbage collector may have lowered.
    """
    if added == 0:
        return
    if charged + added > limit:
        used = await quota_queries.usage(conn, namespace)
        if used + added > limit and refuse:
            would, of = format_size(used + added), format_size(limit)
            if would == of:  # rounded alike: say it exactly
                would, of = f"{used + added} bytes", f"{limit} bytes"
            raise QuotaExceededError(
                f"quota exceeded: namespace {namespace} would use {would} of its {of} quota",
                namespace=namespace,
                used_bytes=used,
                push_bytes=added,
                limit_bytes=limit,
            )
        charged = used
    await quota_queries.charge(conn, namespace, charged + added)


async def _refuse_held(
    conn: AsyncConnection, repository: str, tag_names: list[str], what: str
) -> None:
    """Raise when an immutability rule holds one of `tag_names`."""
    held = await immutability_queries.matching_rule(conn, repository, tag_names)
    if held is not None:
        tag, rule = held
        raise TagImmutableError.held(repository, tag, rule.id, rule.pattern, rule.scope, what)


def _limit(limit: int | None) -> int:
    return queries.NO_LIMIT if limit is None else limit


def parse_digest(value: str) -> Digest:
    """A digest from a path or query parameter.

    Raises:
        DigestInvalidError: malformed or unsupported.
    """
    try:
        return Digest.parse(value)
    except DigestError as exc:
        raise DigestInvalidError(str(exc), digest=value) from exc
