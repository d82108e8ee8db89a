"""Signature policies and the signature artifacts the pull gate reads.

Policy documents are stored once under their version (the SHA-256 of the canonical document);
repositories and namespaces name a version. The gate's reads are prebuilt statements for the
hot-read path: in one query, the signature referrers of a digest in one repository and the
manifest tagged with cosign's `sha256-<hex>.sig` there.

Scope: queries only; returns plain values, never ORM rows.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, bindparam, literal, or_, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.tables import (
    manifest_references,
    manifests,
    namespaces,
    repositories,
    signature_policies,
    tags,
)
from trust.sigs.bundle import SIGSTORE_BUNDLE_ARTIFACT_TYPE
from trust.sigs.notation import NOTATION_ARTIFACT_TYPE
from trust.sigs.policy import COSIGN_SIG_TAG

__all__ = [
    "INDEX_PARENTS",
    "MAX_SIGNATURE_ARTIFACTS",
    "SIGNATURE_ARTIFACTS",
    "PolicySetting",
    "namespace_policy",
    "policy_document",
    "policy_setting",
    "set_namespace_policy",
    "set_repository_policy",
    "store_policy",
]

# At most this many signature artifacts of one digest are read: a pusher cannot make a pull
# verify an unbounded number of them.
MAX_SIGNATURE_ARTIFACTS = 32

# The signature artifacts of `digest` in `repo`, in one query: the manifest tagged `tag` (cosign's
# `sha256-<hex>.sig`), marked with `sig_tag_kind`, and the referrers of `digest` that are
# Sigstore bundles or Notation signatures, with their artifact type. Types are bound with
# defaults, not expanded: the SQLite hot path runs precompiled SQL.
SIGNATURE_ARTIFACTS = union_all(
    select(tags.c.manifest_digest, literal(COSIGN_SIG_TAG, type_=String).label("kind"))
    .select_from(repositories.join(tags, tags.c.repository_id == repositories.c.id))
    .where(repositories.c.name == bindparam("repo"), tags.c.name == bindparam("tag")),
    select(manifests.c.digest, manifests.c.artifact_type)
    .select_from(manifests.join(repositories, repositories.c.id == manifests.c.repository_id))
    .where(
        repositories.c.name == bindparam("repo"),
        manifests.c.subject_digest == bindparam("digest"),
        or_(
            manifests.c.artifact_type == bindparam("bundle_type", SIGSTORE_BUNDLE_ARTIFACT_TYPE),
            manifests.c.artifact_type == bindparam("notation_type", NOTATION_ARTIFACT_TYPE),
        ),
    ),
).limit(bindparam("limit", MAX_SIGNATURE_ARTIFACTS))

# Manifests of `repo` that list `child` as a manifest (the indexes holding a platform image).
INDEX_PARENTS = (
    select(manifests.c.digest)
    .select_from(
        repositories.join(manifests, manifests.c.repository_id == repositories.c.id).join(
            manifest_references, manifest_references.c.manifest_id == manifests.c.id
        )
    )
    .where(
        repositories.c.name == bindparam("repo"),
        manifest_references.c.digest == bindparam("child"),
        manifest_references.c.kind == "manifest",
    )
    .order_by(manifests.c.digest)
)


@dataclass(frozen=True, slots=True)
class PolicySetting:
    """A repository's signature policy version: its own (None: inherit) and its namespace's."""

    own: str | None
    namespace: str | None

    @property
    def effective(self) -> str | None:
        return self.own if self.own is not None else self.namespace


async def store_policy(conn: AsyncConnection, version: str, document: str) -> None:
    """Store a document under its version unless it is already there."""
    exists = await conn.scalar(
        select(signature_policies.c.version).where(signature_policies.c.version == version)
    )
    if exists is None:
        # A concurrent store of the same document may win; its row is this one (same version).
        with contextlib.suppress(IntegrityError):
            async with conn.begin_nested():
                await conn.execute(
                    signature_policies.insert().values(
                        version=version, document=document, created_at=datetime.now(UTC)
                    )
                )


async def policy_document(conn: AsyncConnection, version: str) -> str | None:
    """The document stored under `version`, or None."""
    return await conn.scalar(
        select(signature_policies.c.document).where(signature_policies.c.version == version)
    )


async def set_repository_policy(conn: AsyncConnection, repo: str, version: str | None) -> bool:
    """Name a repository's policy (None: follow the namespace); False when it does not exist."""
    result = await conn.execute(
        update(repositories).where(repositories.c.name == repo).values(signature_policy=version)
    )
    return bool(result.rowcount)


async def set_namespace_policy(conn: AsyncConnection, namespace: str, version: str | None) -> bool:
    """Name a namespace's policy (None: DCT only); False when it does not exist."""
    result = await conn.execute(
        update(namespaces).where(namespaces.c.name == namespace).values(signature_policy=version)
    )
    return bool(result.rowcount)


async def namespace_policy(conn: AsyncConnection, namespace: str) -> tuple[bool, str | None]:
    """(whether the namespace exists, its policy version)."""
    row = (
        await conn.execute(
            select(namespaces.c.signature_policy).where(namespaces.c.name == namespace)
        )
    ).first()
    return (False, None) if row is None else (True, row[0])


async def policy_setting(conn: AsyncConnection, repo: str) -> PolicySetting | None:
    """The repository's policy setting, or None when there is no such repository."""
    namespace = repo.split("/", 1)[0]
    row = (
        await conn.execute(
            select(repositories.c.signature_policy, namespaces.c.signature_policy)
            .select_from(repositories.outerjoin(namespaces, namespaces.c.name == namespace))
            .where(repositories.c.name == repo)
        )
    ).first()
    return None if row is None else PolicySetting(row[0], row[1])
