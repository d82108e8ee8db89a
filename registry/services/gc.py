"""Online garbage collection: remove what nothing references while pushes go on.

What goes (each only when older than the grace period, see below):

1. Untagged manifests that no index in the same repository lists and that are not a
   referrer of a manifest still present. A referrer whose subject is kept is kept (a
   signature or SBOM lives as long as its image); a referrer whose subject is gone goes.
   Removal repeats until nothing changes, so an index's children go with it and a referrer's
   referrers with it. Distribution removes untagged manifests only with
   `--delete-untagged`; Berth does it by default because "pushed by digest and never tagged"
   is almost always the leftover of a moved tag. `delete_untagged=False` keeps every
   manifest and collects only blobs.
2. Repository links to blobs that no remaining manifest of that repository references.
3. Blobs linked into no repository: the database row, then the bytes.
4. Upload sessions untouched for `upload_expiry` seconds, and (S3) multipart uploads that
   crashed writers left behind.
5. Bytes under `blobs/` without a database row (left by a GC that was interrupted).
6. Repositories of the namespaces in `drop_emptied` (the pull-through cache's) left with no
   tag, manifest or blob: a cached repository whose content expired leaves the catalog and
   search with it, and its next pull makes it anew. Other repositories stay when emptied, as
   in Distribution (and Harbor, whose users ask for the same clean-up: goharbor/harbor#18313):
   their profile, stars and settings are their owners'.

No global lock. Pushes and GC meet in the database only:

- Rows carry `created_at`, which every push relying on a row refreshes in its own
  transaction (see `registry.db.queries`); a blob uploaded and not yet referenced, or a
  manifest pushed by digest before its index, is therefore younger than the grace period and
  survives. GC deletes each row with a statement that re-checks every condition (the grace
  cutoff, no tag, no parent, no link ...), so a row a push touched in between is spared.
- A blob's bytes are moved to `trash/` first, then the row is looked up again: if a push
  re-created it meanwhile, the bytes go back (unless the push already put its own copy
  there); else they are deleted. Uploads write the row before they check for the bytes
  (`registry.services.uploads`), so one of the two always sees the other.

The mark phase reads a snapshot of the tables into memory and proposes candidates; only the
re-checking deletes decide. A dry run reports the candidates and the bytes they hold.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.db.queries import as_utc
from registry.db.tables import (
    blobs,
    manifest_references,
    manifests,
    repositories,
    repository_blobs,
    tags,
)
from registry.oci.digest import Digest, DigestError
from registry.storage.driver.base import PathNotFoundError, StorageDriver
from registry.storage.paths import BLOBS_ROOT, TRASH_ROOT, UPLOADS_ROOT, blob_path, trash_path

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_UPLOAD_EXPIRY",
    "DoomedBlob",
    "DoomedManifest",
    "GarbageCollector",
    "GcOptions",
    "GcReport",
]

DEFAULT_UPLOAD_EXPIRY = 7 * 24 * 3600.0  # seconds, as Distribution's upload purging


@dataclass(frozen=True, slots=True)
class GcOptions:
    """How one collection runs."""

    grace: float = 3600.0  # seconds an unreferenced row must have been left alone
    dry_run: bool = False  # report what would go, change nothing
    delete_untagged: bool = True  # remove untagged, unreferenced manifests
    upload_expiry: float = DEFAULT_UPLOAD_EXPIRY  # seconds an untouched session is kept
    drop_emptied: tuple[str, ...] = ()  # namespaces whose repositories go once emptied


@dataclass(frozen=True, slots=True)
class DoomedManifest:
    repository: str
    digest: str
    size: int  # bytes of the manifest itself


@dataclass(frozen=True, slots=True)
class DoomedBlob:
    digest: str
    size: int  # bytes


@dataclass(slots=True)
class GcReport:
    """What a collection removed (or, in a dry run, would remove)."""

    dry_run: bool
    manifests: list[DoomedManifest] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (repository, digest)
    blobs: list[DoomedBlob] = field(default_factory=list)
    orphans: list[DoomedBlob] = field(default_factory=list)  # bytes without a database row
    uploads: list[str] = field(default_factory=list)  # upload ids
    repositories: list[str] = field(default_factory=list)  # emptied ones removed
    spared: int = 0  # candidates a concurrent push saved

    @property
    def bytes_freed(self) -> int:
        """Blob bytes removed from storage."""
        return sum(b.size for b in self.blobs) + sum(b.size for b in self.orphans)


@dataclass(frozen=True, slots=True)
class _ManifestRow:
    id: int
    repo_id: int
    digest: str
    subject: str | None
    created_at: datetime
    size: int


@dataclass(slots=True)
class _Snapshot:
    repos: dict[int, str]
    manifests: list[_ManifestRow]
    tagged: set[tuple[int, str]]
    refs: dict[int, list[tuple[str, str]]]  # manifest id -> (digest, kind)
    links: list[tuple[int, str, datetime]]
    blobs: dict[str, tuple[int, datetime]]  # digest -> (size, created_at)


async def _snapshot(conn: AsyncConnection) -> _Snapshot:
    repos = {
        row[0]: row[1] for row in await conn.execute(select(repositories.c.id, repositories.c.name))
    }
    manifest_rows = [
        _ManifestRow(row[0], row[1], row[2], row[3], as_utc(row[4]), int(row[5] or 0))
        for row in await conn.execute(
            select(
                manifests.c.id,
                manifests.c.repository_id,
                manifests.c.digest,
                manifests.c.subject_digest,
                manifests.c.created_at,
                func.length(manifests.c.payload),
            )
        )
    ]
    tagged = {
        (row[0], row[1])
        for row in await conn.execute(select(tags.c.repository_id, tags.c.manifest_digest))
    }
    refs: dict[int, list[tuple[str, str]]] = {}
    for manifest_id, digest, kind in await conn.execute(
        select(
            manifest_references.c.manifest_id,
            manifest_references.c.digest,
            manifest_references.c.kind,
        )
    ):
        refs.setdefault(manifest_id, []).append((digest, kind))
    links = [
        (row[0], row[1], as_utc(row[2]))
        for row in await conn.execute(
            select(
                repository_blobs.c.repository_id,
                repository_blobs.c.digest,
                repository_blobs.c.created_at,
            )
        )
    ]
    blob_rows = {
        row[0]: (int(row[1]), as_utc(row[2]))
        for row in await conn.execute(select(blobs.c.digest, blobs.c.size, blobs.c.created_at))
    }
    return _Snapshot(repos, manifest_rows, tagged, refs, links, blob_rows)


@dataclass(slots=True)
class _Plan:
    manifest_rounds: list[list[_ManifestRow]]
    links: list[tuple[int, str]]
    blobs: list[DoomedBlob]


def _references(
    snap: _Snapshot, manifests: Iterable[_ManifestRow], kind: str
) -> set[tuple[int, str]]:
    """(repository id, digest) of every `kind` ("manifest" or "blob") `manifests` refer to."""
    return {
        (m.repo_id, digest)
        for m in manifests
        for digest, ref_kind in snap.refs.get(m.id, ())
        if ref_kind == kind
    }


def _plan(snap: _Snapshot, cutoff: datetime, delete_untagged: bool) -> _Plan:
    live = {m.id: m for m in snap.manifests}
    rounds: list[list[_ManifestRow]] = []
    while delete_untagged:
        present = {(m.repo_id, m.digest) for m in live.values()}
        listed = _references(snap, live.values(), "manifest")
        doomed = [
            m
            for m in live.values()
            if m.created_at < cutoff
            and (m.repo_id, m.digest) not in snap.tagged
            and (m.repo_id, m.digest) not in listed
            and (m.subject is None or (m.repo_id, m.subject) not in present)
        ]
        if not doomed:
            break
        rounds.append(doomed)
        for m in doomed:
            del live[m.id]
    referenced = _references(snap, live.values(), "blob")
    doomed_links = [
        (repo_id, digest)
        for repo_id, digest, created_at in snap.links
        if created_at < cutoff and (repo_id, digest) not in referenced
    ]
    gone = set(doomed_links)
    still_linked = {digest for repo_id, digest, _ in snap.links if (repo_id, digest) not in gone}
    still_referenced = {digest for _, digest in referenced}
    doomed_blobs = [
        DoomedBlob(digest, size)
        for digest, (size, created_at) in sorted(snap.blobs.items())
        if created_at < cutoff and digest not in still_linked and digest not in still_referenced
    ]
    return _Plan(rounds, doomed_links, doomed_blobs)


def _emptied(snap: _Snapshot, plan: _Plan, namespaces: Iterable[str]) -> list[tuple[int, str]]:
    """(id, name) of the repositories of `namespaces` the plan leaves with nothing in them."""
    prefixes = tuple(f"{namespace}/" for namespace in namespaces)
    if not prefixes:
        return []
    doomed_manifests = {m.id for round_ in plan.manifest_rounds for m in round_}
    doomed_links = set(plan.links)
    holding = {repo_id for repo_id, _ in snap.tagged}
    holding |= {m.repo_id for m in snap.manifests if m.id not in doomed_manifests}
    holding |= {
        repo_id for repo_id, digest, _ in snap.links if (repo_id, digest) not in doomed_links
    }
    return sorted(
        (repo_id, name)
        for repo_id, name in snap.repos.items()
        if name.startswith(prefixes) and repo_id not in holding
    )


class GarbageCollector:
    """Collects garbage in one hub's database and storage (any number may run at once).

    Args:
        driver: the storage driver.
        engine: the database engine.
        clock: seconds since the epoch (tests pass their own).
    """

    def __init__(
        self, driver: StorageDriver, engine: AsyncEngine, clock: Callable[[], float] = time.time
    ) -> None:
        self.driver = driver
        self.engine = engine
        self.clock = clock

    async def run(self, options: GcOptions | None = None) -> GcReport:
        """Mark, then (unless a dry run) sweep.

        Returns:
            What went, or would go.
        """
        options = options or GcOptions()
        now = datetime.fromtimestamp(self.clock(), UTC)
        cutoff = now - timedelta(seconds=options.grace)
        async with self.engine.connect() as conn:
            snap = await _snapshot(conn)
        plan = _plan(snap, cutoff, options.delete_untagged)
        report = GcReport(dry_run=options.dry_run)
        if not options.dry_run:
            await self._settle_trash(report)
        for round_ in plan.manifest_rounds:
            for m in round_:
                doomed = DoomedManifest(snap.repos.get(m.repo_id, "?"), m.digest, m.size)
                if options.dry_run or await self._delete_manifest(m.id, cutoff):
                    report.manifests.append(doomed)
                else:
                    report.spared += 1
        for repo_id, digest in plan.links:
            if options.dry_run or await self._delete_link(repo_id, digest, cutoff):
                report.links.append((snap.repos.get(repo_id, "?"), digest))
            else:
                report.spared += 1
        for blob in plan.blobs:
            if options.dry_run:
                report.blobs.append(blob)
            elif await self._delete_blob_row(blob.digest, cutoff):
                await self._discard_bytes(blob.digest)
                report.blobs.append(blob)
            else:
                report.spared += 1
        for repo_id, name in _emptied(snap, plan, options.drop_emptied):
            if options.dry_run or await self._delete_emptied(repo_id, cutoff):
                report.repositories.append(name)
        await self._collect_orphans(set(snap.blobs), cutoff, options.dry_run, report)
        await self._collect_uploads(now, options, report)
        logger.info(
            "gc%s: %d manifests, %d links, %d blobs, %d orphans, %d uploads, %d repositories, "
            "%d bytes, %d spared",
            " (dry run)" if options.dry_run else "",
            len(report.manifests),
            len(report.links),
            len(report.blobs),
            len(report.orphans),
            len(report.uploads),
            len(report.repositories),
            report.bytes_freed,
            report.spared,
        )
        return report

    async def _delete_manifest(self, manifest_id: int, cutoff: datetime) -> bool:
        parent = manifests.alias("parent")
        subject = manifests.alias("subject")
        untagged = ~exists(
            select(tags.c.name)
            .where(
                tags.c.repository_id == manifests.c.repository_id,
                tags.c.manifest_digest == manifests.c.digest,
            )
            .correlate(manifests)
        )
        unlisted = ~exists(
            select(manifest_references.c.manifest_id)
            .select_from(
                manifest_references.join(parent, parent.c.id == manifest_references.c.manifest_id)
            )
            .where(
                parent.c.repository_id == manifests.c.repository_id,
                manifest_references.c.digest == manifests.c.digest,
                manifest_references.c.kind == "manifest",
            )
            .correlate(manifests)
        )
        orphaned_referrer = or_(
            manifests.c.subject_digest.is_(None),
            ~exists(
                select(subject.c.id)
                .where(
                    subject.c.repository_id == manifests.c.repository_id,
                    subject.c.digest == manifests.c.subject_digest,
                )
                .correlate(manifests)
            ),
        )
        async with self.engine.begin() as conn:
            deleted = await conn.execute(
                delete(manifests)
                .where(
                    manifests.c.id == manifest_id,
                    manifests.c.created_at < cutoff,
                    untagged,
                    unlisted,
                    orphaned_referrer,
                )
                .returning(manifests.c.id)
            )
            if deleted.first() is None:
                return False
            await conn.execute(
                delete(manifest_references).where(manifest_references.c.manifest_id == manifest_id)
            )
        return True

    async def _delete_link(self, repo_id: int, digest: str, cutoff: datetime) -> bool:
        referenced = exists(
            select(manifest_references.c.manifest_id)
            .select_from(
                manifest_references.join(
                    manifests, manifests.c.id == manifest_references.c.manifest_id
                )
            )
            .where(manifests.c.repository_id == repo_id, manifest_references.c.digest == digest)
        )
        async with self.engine.begin() as conn:
            deleted = await conn.execute(
                delete(repository_blobs)
                .where(
                    repository_blobs.c.repository_id == repo_id,
                    repository_blobs.c.digest == digest,
                    repository_blobs.c.created_at < cutoff,
                    ~referenced,
                )
                .returning(repository_blobs.c.digest)
            )
            return deleted.first() is not None

    async def _delete_emptied(self, repo_id: int, cutoff: datetime) -> bool:
        """Delete the repository if nothing is in it (checked by the statement itself: a pull
        filling it meanwhile keeps it) and it is older than the grace period."""
        holds = [
            exists(select(table.c.repository_id).where(table.c.repository_id == repo_id))
            for table in (tags, manifests, repository_blobs)
        ]
        try:
            async with self.engine.begin() as conn:
                deleted = await conn.execute(
                    delete(repositories)
                    .where(
                        repositories.c.id == repo_id,
                        repositories.c.created_at < cutoff,
                        *(~held for held in holds),
                    )
                    .returning(repositories.c.id)
                )
                return deleted.first() is not None
        except IntegrityError:
            return False  # something was linked into it between the check and the delete

    async def _delete_blob_row(self, digest: str, cutoff: datetime) -> bool:
        linked = exists(
            select(repository_blobs.c.digest).where(repository_blobs.c.digest == digest)
        )
        try:
            async with self.engine.begin() as conn:
                deleted = await conn.execute(
                    delete(blobs)
                    .where(blobs.c.digest == digest, blobs.c.created_at < cutoff, ~linked)
                    .returning(blobs.c.digest)
                )
                return deleted.first() is not None
        except IntegrityError:
            return False  # a push linked it between our check and the delete

    async def _row_exists(self, digest: str) -> bool:
        async with self.engine.connect() as conn:
            return (
                await conn.scalar(select(blobs.c.size).where(blobs.c.digest == digest)) is not None
            )

    async def _discard_bytes(self, digest: str) -> None:
        parsed = Digest.parse(digest)
        try:
            await self.driver.move(blob_path(parsed), trash_path(parsed))
        except PathNotFoundError:
            return
        await self._settle(parsed)

    async def _settle(self, digest: Digest) -> None:
        """Delete trashed bytes, or put them back when a push re-created the blob's row."""
        if await self._row_exists(str(digest)):
            try:
                await self.driver.stat(blob_path(digest))
            except PathNotFoundError:
                logger.info("gc: blob %s was pushed again meanwhile; restoring it", digest)
                await self.driver.move(trash_path(digest), blob_path(digest))
                return
        with contextlib.suppress(PathNotFoundError):
            await self.driver.delete(trash_path(digest))

    async def _listing(self, path: str) -> list[str]:
        try:
            return await self.driver.list(path)
        except PathNotFoundError:
            return []

    async def _settle_trash(self, report: GcReport) -> None:
        # Left by a collection that stopped between moving bytes and re-checking the row.
        for algorithm_dir in await self._listing(TRASH_ROOT):
            for entry in await self._listing(algorithm_dir):
                algorithm, hex_ = entry.split("/")[-2:]
                with contextlib.suppress(DigestError):
                    await self._settle(Digest.parse(f"{algorithm}:{hex_}"))

    async def _collect_orphans(
        self, known: set[str], cutoff: datetime, dry_run: bool, report: GcReport
    ) -> None:
        doomed_rows = {b.digest for b in report.blobs}
        for algorithm_dir in await self._listing(BLOBS_ROOT):
            for prefix_dir in await self._listing(algorithm_dir):
                for blob_dir in await self._listing(prefix_dir):
                    algorithm, _, hex_ = blob_dir.split("/")[-3:]
                    digest = f"{algorithm}:{hex_}"
                    if digest in known or digest in doomed_rows:
                        continue
                    try:
                        info = await self.driver.stat(f"{blob_dir}/data")
                    except PathNotFoundError:
                        continue
                    if info.mtime >= cutoff.timestamp() or await self._row_exists(digest):
                        continue
                    report.orphans.append(DoomedBlob(digest, info.size))
                    if not dry_run:
                        with contextlib.suppress(DigestError):
                            await self._discard_bytes(digest)

    async def _collect_uploads(self, now: datetime, options: GcOptions, report: GcReport) -> None:
        expiry = now.timestamp() - options.upload_expiry
        for session in await self._listing(UPLOADS_ROOT):
            mtime = 0.0  # a session with neither file is debris
            for name in ("data", "info.json"):
                with contextlib.suppress(PathNotFoundError):
                    mtime = max(mtime, (await self.driver.stat(f"{session}/{name}")).mtime)
            if mtime >= expiry:
                continue
            report.uploads.append(session.rsplit("/", 1)[-1])
            if not options.dry_run:
                with contextlib.suppress(PathNotFoundError):
                    await self.driver.delete(session)
        # Object stores keep parts of a crashed writer's multipart upload out of sight.
        abort = getattr(self.driver, "abort_incomplete_uploads", None)
        if abort is not None and not options.dry_run:
            await abort(options.upload_expiry)
