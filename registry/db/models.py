"""SQLAlchemy 2 models for the registry's own data: repositories, blobs, manifests, tags.

Manifest bytes live here (bounded in size) so a manifest GET is one query; blob bytes live in
the storage driver. Constraint names come from the naming convention so Alembic migrations
stay deterministic.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "Blob",
    "ImmutableTagRule",
    "Lease",
    "Manifest",
    "ManifestReference",
    "NamespaceQuota",
    "Repository",
    "RepositoryBlob",
    "RetentionPolicyRow",
    "RetentionRun",
    "SignaturePolicyDocument",
    "Tag",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Repository(Base):
    __tablename__ = "repositories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)

    __table_args__ = (
        # Names compared bytewise (PostgreSQL's `~>=~`, `~<~`; SQLite's BINARY), so that a
        # namespace's repositories are an index range whatever the database's collation
        # (quotas, `registry.db.quota_queries`). On SQLite it is a plain index on `name`, like
        # the unique one: one index for both databases keeps the models and migrations alike.
        Index(
            "ix_repositories_name_bytewise", "name", postgresql_ops={"name": "varchar_pattern_ops"}
        ),
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Content trust required to pull: True/False, or None to follow the namespace's setting.
    # Kept here because every manifest read already joins this row.
    trust_required: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=None)
    # The version of the signature policy that says which signatures count when trust is
    # required (a `signature_policies` key), or None to follow the namespace's.
    signature_policy: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)


class SignaturePolicyDocument(Base):
    """A signature policy document, stored once under its version (its SHA-256).

    Content-addressed, so every hub replica that reads a repository's policy version reads the
    same document, and a cached decision keyed by version can never outlive a change.
    """

    __tablename__ = "signature_policies"

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImmutableTagRule(Base):
    """Tags matching `pattern` in `scope` keep their digest and cannot be deleted.

    `scope` is a namespace (every repository in it) or a full repository name; the two never
    collide, as repository names hold a `/` and namespace names do not.
    """

    __tablename__ = "immutable_tag_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(255))
    pattern: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("scope", "pattern"),)


class Blob(Base):
    """A committed blob in the global content-addressed store."""

    __tablename__ = "blobs"

    digest: Mapped[str] = mapped_column(String(150), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RepositoryBlob(Base):
    """A blob linked into a repository: what makes it readable there."""

    __tablename__ = "repository_blobs"

    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(ForeignKey("blobs.digest"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index(None, "digest"),)


class Manifest(Base):
    __tablename__ = "manifests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(150))
    media_type: Mapped[str] = mapped_column(String(255))
    artifact_type: Mapped[str | None] = mapped_column(String(255))
    subject_digest: Mapped[str | None] = mapped_column(String(150))
    annotations: Mapped[str | None] = mapped_column(String)  # JSON text, for referrers
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("repository_id", "digest"),
        Index(None, "repository_id", "subject_digest"),
    )


class ManifestReference(Base):
    """An edge from a manifest to a blob or a child manifest (for validation and GC)."""

    __tablename__ = "manifest_references"

    manifest_id: Mapped[int] = mapped_column(
        ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(150), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "blob" | "manifest"

    __table_args__ = (Index(None, "digest"),)


class Tag(Base):
    __tablename__ = "tags"

    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    manifest_digest: Mapped[str] = mapped_column(String(150))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The last pull by this tag or by the digest it names (buffered, see registry.hub.pulls);
    # retention keeps recently pulled tags.
    pulled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RetentionPolicyRow(Base):
    """The retention policy of a namespace or repository (`registry.hub.retention_policy`)."""

    __tablename__ = "retention_policies"

    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
    document: Mapped[str] = mapped_column(Text)  # the policy as canonical JSON
    schedule_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RetentionRun(Base):
    """One retention run of one repository: when, started by whom, and the tags it removed."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(255))
    started_by: Mapped[str] = mapped_column(String(64))  # an account, `berth-hub`, `schedule`
    dry_run: Mapped[bool] = mapped_column(Boolean)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed: Mapped[str] = mapped_column(Text)  # JSON list of the tag names removed
    kept: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index(None, "repository", "id"),)


class Lease(Base):
    """A named lease: the one hub process (of all replicas) that holds it until `expires_at`
    does the work it names, such as scheduled retention runs."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NamespaceQuota(Base):
    """A namespace's storage quota (`registry.hub.quotas`): the most bytes its repositories'
    manifests may reference. A namespace without a row has no quota.

    Keyed by name, like the other per-namespace settings here, so an open registry (no
    `namespaces` rows) can have quotas too. Pushes lock this row (PostgreSQL) so that the
    pushes of one namespace are checked one after another.

    `charged_bytes` is never below the namespace's usage: counted exactly when the quota is
    set, raised by what every push adds (under the lock), lowered only when a push near the
    limit counts the usage again (deletes and the collector lower usage, not the charge). So
    a push far from the limit never pays for counting the whole namespace.
    """

    __tablename__ = "namespace_quotas"

    namespace: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit_bytes: Mapped[int] = mapped_column(BigInteger)
    charged_bytes: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
