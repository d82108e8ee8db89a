"""SQLAlchemy models of replication: rules, their runs, and the queue of pushes to replicate.

A `ReplicationRule` copies repositories between the hub and a remote registry, in one
direction. Each run writes one `ReplicationRun` row (its counts and the errors per item).
A push by tag writes a `ReplicationPush` row in the manifest's transaction when some enabled
push rule copies on push (`registry.db.replication_queries.note_push`); replication workers
claim those rows with a lease, so a push is replicated at least once whatever replica took it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db.models import Base

__all__ = ["ReplicationPush", "ReplicationRule", "ReplicationRun"]


class ReplicationRule(Base):
    """What to copy, from where to where, and when.

    `password` is sealed with the hub's key-encryption secret (`registry.replication.sealing`)
    and never listed.
    """

    __tablename__ = "replication_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(8))  # "push" (hub -> remote) or "pull"
    remote_url: Mapped[str] = mapped_column(Text)
    username: Mapped[str | None] = mapped_column(String(255), nullable=True)
    password: Mapped[str | None] = mapped_column(Text, nullable=True)  # sealed
    tls_verify: Mapped[bool] = mapped_column(Boolean, default=True)
    ca_pem: Mapped[str | None] = mapped_column(Text, nullable=True)
    repositories: Mapped[str] = mapped_column(String(255))  # glob over full names
    tags: Mapped[str] = mapped_column(String(128))  # tag glob
    destination: Mapped[str] = mapped_column(String(255))  # prefix on the other side ("" none)
    on_push: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    next_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReplicationRun(Base):
    """One run of a rule: who or what started it, its outcome and counts."""

    __tablename__ = "replication_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("replication_rules.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))  # manual, schedule, push
    started_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # running, succeeded, failed, interrupted
    copied: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{item, error, attempts}]

    __table_args__ = (Index(None, "rule_id", "id"),)


class ReplicationPush(Base):
    """A tag pushed to the hub, waiting for the push rules that copy on push."""

    __tablename__ = "replication_pushes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository: Mapped[str] = mapped_column(String(255))
    tag: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
