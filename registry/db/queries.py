"""Query functions over the registry tables. They take a connection and return frozen values.

Every write that two hub processes may race on (first push of a repository, the same blob
pushed twice) is an insert that ignores conflicts, so the loser simply reads the winner's row.

Online garbage collection (`registry.services.gc`) reads `created_at` of blobs, repository
links and manifests as "last used by a push": every push that relies on such a row refreshes
it in the same transaction (an upsert or an `UPDATE ... RETURNING`). That write also locks the
row, so a concurrent GC delete, which re-checks `created_at` against its cutoff, either waits
and then spares the row, or has already removed it and the push sees the row missing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, false, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.hotwrites import hot
from registry.db.tables import (
    blobs,
    manifest_references,
    manifests,
    namespaces,
    repositories,
    repository_blobs,
    tags,
)
from trust.server.store.sql import trust_metadata

__all__ = [
    "ManifestRecord",
    "ReferrerRecord",
]


@dataclass(frozen=True, slots=True)
class ManifestRecord:
    digest: str
    media_type: str
    payload: bytes
    subject_digest: str | None
    trust_required: bool = False  # the repository's effective content-trust setting
    signature_policy: str | None = None  # its effective signature policy version (None: DCT)


@dataclass(frozen=True, slots=True)
class ReferrerRecord:
    digest: str
    media_type: str
    size: int
    artifact_type: str | None
    annotations: dict[str, str] | None


def _now() -> datetime:
    return datetime.now(UTC)


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert(conn: AsyncConnection, table: Any) -> Any:
    try:
        return _INSERTS[conn.dialect.name](table)
    except KeyError:  # pragma: no cover - only the two dialects above are supported
        raise RuntimeError(f"unsupported database dialect {conn.dialect.name}") from None


# The write statements of every push are built once per dialect and table and executed with
# their values as parameters: building an upsert (its `excluded` alias above all) costs more
# than running it.
@functools.cache
def _upsert_touch_statement(dialect: str, table: Table, keys: tuple[str, ...]) -> Any:
    stmt = _INSERTS[dialect](table)
    return hot(
        stmt.on_conflict_do_update(
            index_elements=list(keys), set_={"created_at": stmt.excluded.created_at}
        )
    )


@functools.cache
def insert_ignore_statement(dialect: str, table: Table, keys: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, built once per table and key (values go as parameters)."""
    return hot(_INSERTS[dialect](table).on_conflict_do_nothing(index_elements=list(keys)))


async def _upsert_touch(
    conn: AsyncConnection, table: Any, values: dict[str, Any], keys: Sequence[str]
) -> None:
    """Insert a row, or refresh `created_at` of the existing one (see the module docstring)."""
    await conn.execute(_upsert_touch_statement(conn.dialect.name, table, tuple(keys)), values)


async def _insert_ignore(
    conn: AsyncConnection, table: Any, values: dict[str, Any], keys: Sequence[str]
) -> None:
    await conn.execute(insert_ignore_statement(conn.dialect.name, table, tuple(keys)), values)


async def repository_id(conn: AsyncConnection, name: str) -> int | None:
    return await conn.scalar(REPOSITORY_BY_NAME, {"repo": name})


async def ensure_repository(conn: AsyncConnection, name: str) -> int:
    """The repository's id, creating the repository on first use."""
    found = await repository_id(conn, name)
    if found is not None:
        return found
    await _insert_ignore(conn, repositories, {"name": name, "created_at": _now()}, ["name"])
    created = await repository_id(conn, name)
    assert created is not None
    return created


async def add_blob(conn: AsyncConnection, repo_id: int, digest: str, size: int) -> None:
    """Record a committed blob and link it into a repository (refreshing both rows)."""
    now = _now()
    await _upsert_touch(
        conn, blobs, {"digest": digest, "size": size, "created_at": now}, ["digest"]
    )
    await _upsert_touch(
        conn,
        repository_blobs,
        {"repository_id": repo_id, "digest": digest, "created_at": now},
        ["repository_id", "digest"],
    )


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def refresh_stale_link(
    conn: AsyncConnection, repo_name: str, digest: str, older_than: float
) -> None:
    """Refresh a repository's link to a blob when it is older than `older_than` seconds."""
    repo = await repository_id(conn, repo_name)
    if repo is None:
        return
    now = _now()
    await conn.execute(
        update(repository_blobs)
        .where(
            repository_blobs.c.repository_id == repo,
            repository_blobs.c.digest == digest,
            repository_blobs.c.created_at < now - timedelta(seconds=older_than),
        )
        .values(created_at=now)
    )


async def touch_links(conn: AsyncConnection, repo_id: int, digests: Iterable[str]) -> set[str]:
    """Refresh the repository's links to `digests`; return the digests that are linked."""
    return await _touch_repository_rows(conn, repository_blobs, repo_id, digests)


async def touch_manifests(conn: AsyncConnection, repo_id: int, digests: Iterable[str]) -> set[str]:
    """Refresh the repository's manifests `digests`; return the digests that exist."""
    return await _touch_repository_rows(conn, manifests, repo_id, digests)


@functools.cache
def _touch_statement(table: Table) -> Any:
    # On PostgreSQL the rows are locked in digest order first: an UPDATE locks them in the
    # order it finds them, which follows where each row's last version landed, so two
    # pushes touching the same links could each hold one and wait for the other.
    locked = (
        select(table.c.digest)
        .where(
            table.c.repository_id == bindparam("repo_id"),
            table.c.digest.in_(bindparam("digests", expanding=True)),
        )
        .order_by(table.c.digest)
        .with_for_update()
    )
    return (
        update(table)
        .where(table.c.repository_id == bindparam("repo_id"), table.c.digest.in_(locked))
        .values(created_at=bindparam("now"))
        .returning(table.c.digest)
    )


async def _touch_repository_rows(
    conn: AsyncConnection, table: Table, repo_id: int, digests: Iterable[str]
) -> set[str]:
    """Refresh `table`'s rows of `repo_id` keyed by `digests`; return the digests found."""
    wanted = sorted(set(digests))
    if not wanted:
        return set()
    rows = await conn.execute(
        _touch_statement(table), {"repo_id": repo_id, "digests": wanted, "now": _now()}
    )
    return {row[0] for row in rows}


# The reads behind every pull (manifest and blob GET/HEAD, tag and catalog listing) are built
# once with bind parameters, so a request pays only for execution; `registry.db.hotreads`
# runs them.
LINKED_BLOB_SIZE = hot(
    select(blobs.c.size)
    .select_from(
        repositories.join(
            repository_blobs, repository_blobs.c.repository_id == repositories.c.id
        ).join(blobs, blobs.c.digest == repository_blobs.c.digest)
    )
    .where(
        repositories.c.name == bindparam("repo"), repository_blobs.c.digest == bindparam("digest")
    )
)

STORED_BLOB_SIZE = select(blobs.c.size).where(blobs.c.digest == bindparam("digest"))

# The content-trust setting and the signature policy version ride along on every manifest read
# (the repository's own, else its namespace's, found by a unique-index probe on the `namespace`
# parameter), so repositories that do not require trust pay no extra query.
_MANIFEST_COLUMNS = (
    manifests.c.digest,
    manifests.c.media_type,
    manifests.c.payload,
    manifests.c.subject_digest,
    func.coalesce(repositories.c.trust_required, namespaces.c.trust_required, false()),
    func.coalesce(repositories.c.signature_policy, namespaces.c.signature_policy),
)
_NAMESPACE_OF_REPO = namespaces.c.name == bindparam("namespace")

MANIFEST_BY_DIGEST = (
    select(*_MANIFEST_COLUMNS)
    .select_from(
        manifests.join(repositories, repositories.c.id == manifests.c.repository_id).outerjoin(
            namespaces, _NAMESPACE_OF_REPO
        )
    )
    .where(repositories.c.name == bindparam("repo"), manifests.c.digest == bindparam("digest"))
)

# Limit used when the client asks for no page size: every row.
NO_LIMIT = 2**62

TAGS_PAGE = (
    select(tags.c.name)
    .select_from(repositories.join(tags, tags.c.repository_id == repositories.c.id))
    .where(repositories.c.name == bindparam("repo"), tags.c.name > bindparam("last"))
    .order_by(tags.c.name)
    .limit(bindparam("limit"))
)

REPOSITORY_BY_NAME = hot(select(repositories.c.id).where(repositories.c.name == bindparam("repo")))

CATALOG_PAGE = (
    select(repositories.c.name)
    .where(repositories.c.name > bindparam("last"))
    .order_by(repositories.c.name)
    .limit(bindparam("limit"))
)

MANIFEST_BY_TAG = (
    select(*_MANIFEST_COLUMNS)
    .select_from(
        repositories.join(tags, tags.c.repository_id == repositories.c.id)
        .join(
            manifests,
            and_(
                manifests.c.repository_id == repositories.c.id,
                manifests.c.digest == tags.c.manifest_digest,
            ),
        )
        .outerjoin(namespaces, _NAMESPACE_OF_REPO)
    )
    .where(repositories.c.name == bindparam("repo"), tags.c.name == bindparam("tag"))
)


async def unlink_blob(conn: AsyncConnection, repo_name: str, digest: str) -> bool:
    repo = await repository_id(conn, repo_name)
    if repo is None:
        return False
    result = await conn.execute(
        delete(repository_blobs).where(
            repository_blobs.c.repository_id == repo, repository_blobs.c.digest == digest
        )
    )
    return result.rowcount > 0


async def put_manifest(
    conn: AsyncConnection,
    repo_id: int,
    *,
    digest: str,
    media_type: str,
    artifact_type: str | None,
    subject_digest: str | None,
    annotations: dict[str, str] | None,
    payload: bytes,
    references: Iterable[tuple[str, str]],
) -> None:
    """Store a manifest (idempotent for the same digest) with its reference edges."""
    # One statement stores or refreshes the row (see the module docstring) and returns its id.
    manifest_id = await conn.scalar(
        _store_manifest_statement(conn.dialect.name),
        {
            "repository_id": repo_id,
            "digest": digest,
            "media_type": media_type,
            "artifact_type": artifact_type,
            "subject_digest": subject_digest,
            "annotations": json.dumps(annotations) if annotations else None,
            "payload": payload,
            "created_at": _now(),
        },
    )
    edges = [
        {"manifest_id": manifest_id, "digest": ref_digest, "kind": kind}
        for ref_digest, kind in sorted(set(references))
    ]
    if edges:  # one executemany
        await conn.execute(
            insert_ignore_statement(
                conn.dialect.name, manifest_references, ("manifest_id", "digest")
            ),
            edges,
        )


@functools.cache
def _store_manifest_statement(dialect: str) -> Any:
    return hot(
        _upsert_touch_statement(dialect, manifests, ("repository_id", "digest")).returning(
            manifests.c.id
        )
    )


@functools.cache
def _set_tag_statement(dialect: str) -> Any:
    stmt = _INSERTS[dialect](tags)
    return hot(
        stmt.on_conflict_do_update(
            index_elements=["repository_id", "name"],
            set_={
                "manifest_digest": stmt.excluded.manifest_digest,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )


async def set_tag(conn: AsyncConnection, repo_id: int, tag: str, digest: str) -> None:
    """Point `tag` at `digest`; of racing pushes of one tag, the last to commit wins."""
    await conn.execute(
        _set_tag_statement(conn.dialect.name),
        {"repository_id": repo_id, "name": tag, "manifest_digest": digest, "updated_at": _now()},
    )


async def claim_tag(conn: AsyncConnection, repo_id: int, tag: str, digest: str) -> str:
    """Create `tag` at `digest` unless it exists; the digest it points at afterwards.

    Never moves an existing tag. Of two pushes racing to create it, the second waits on the
    unique key for the first to commit and then reads the first one's digest.
    """
    await _insert_ignore(
        conn,
        tags,
        {
            "repository_id": repo_id,
            "name": tag,
            "manifest_digest": digest,
            "updated_at": _now(),
        },
        ["repository_id", "name"],
    )
    current = await conn.scalar(
        select(tags.c.manifest_digest).where(tags.c.repository_id == repo_id, tags.c.name == tag)
    )
    return str(current)


async def tags_at(conn: AsyncConnection, repo_name: str, digest: str) -> list[str]:
    """The tags of `repo_name` pointing at `digest`, in lexical order."""
    rows = await conn.execute(
        select(tags.c.name)
        .select_from(tags.join(repositories, repositories.c.id == tags.c.repository_id))
        .where(repositories.c.name == repo_name, tags.c.manifest_digest == digest)
        .order_by(tags.c.name)
    )
    return [row[0] for row in rows]


async def delete_manifest(conn: AsyncConnection, repo_name: str, digest: str) -> bool:
    """Delete a manifest and every tag pointing at it; False when it was not there."""
    repo = await repository_id(conn, repo_name)
    if repo is None:
        return False
    await conn.execute(
        delete(tags).where(tags.c.repository_id == repo, tags.c.manifest_digest == digest)
    )
    manifest_id = await conn.scalar(
        select(manifests.c.id).where(
            manifests.c.repository_id == repo, manifests.c.digest == digest
        )
    )
    if manifest_id is None:
        return False
    await conn.execute(
        delete(manifest_references).where(manifest_references.c.manifest_id == manifest_id)
    )
    await conn.execute(delete(manifests).where(manifests.c.id == manifest_id))
    return True


async def delete_tag(conn: AsyncConnection, repo_name: str, tag: str) -> bool:
    repo = await repository_id(conn, repo_name)
    if repo is None:
        return False
    result = await conn.execute(
        delete(tags).where(tags.c.repository_id == repo, tags.c.name == tag)
    )
    return result.rowcount > 0


async def referrers(
    conn: AsyncConnection, repo_name: str, subject: str, artifact_type: str | None
) -> list[ReferrerRecord]:
    stmt = (
        select(
            manifests.c.digest,
            manifests.c.media_type,
            func.length(manifests.c.payload),
            manifests.c.artifact_type,
            manifests.c.annotations,
        )
        .select_from(manifests.join(repositories, repositories.c.id == manifests.c.repository_id))
        .where(repositories.c.name == repo_name, manifests.c.subject_digest == subject)
        .order_by(manifests.c.digest)
    )
    if artifact_type is not None:
        stmt = stmt.where(manifests.c.artifact_type == artifact_type)
    return [
        ReferrerRecord(digest, media_type, size, art, json.loads(ann) if ann else None)
        for digest, media_type, size, art, ann in await conn.execute(stmt)
    ]


# GUNs with trust data that name a repository under any host: `gun` is the repository itself
# or ends in `/<repository>` (`pattern` is that suffix as an escaped LIKE pattern).
TRUST_GUNS = (
    select(trust_metadata.c.gun)
    .where(
        or_(
            trust_metadata.c.gun == bindparam("name"),
            trust_metadata.c.gun.like(bindparam("pattern"), escape="\\"),
        )
    )
    .distinct()
)


def gun_suffix_pattern(repository: str) -> str:
    """The LIKE pattern of GUNs ending in `/<repository>` for `TRUST_GUNS`."""
    escaped = repository.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "%/" + escaped


async def signed_index_holds(
    conn: AsyncConnection, repo_name: str, child: str, parents: Iterable[str]
) -> bool:
    """Whether one of the `parents` manifests of the repository lists `child` as a manifest."""
    parents = list(parents)
    if not parents:
        return False
    found = await conn.scalar(
        select(manifests.c.id)
        .select_from(
            repositories.join(manifests, manifests.c.repository_id == repositories.c.id).join(
                manifest_references, manifest_references.c.manifest_id == manifests.c.id
            )
        )
        .where(
            repositories.c.name == repo_name,
            manifests.c.digest.in_(parents),
            manifest_references.c.digest == child,
            manifest_references.c.kind == "manifest",
        )
        .limit(1)
    )
    return found is not None
