"""replication: rules, their runs, and the queue of pushes to replicate

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "replication_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("remote_url", sa.Text(), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password", sa.Text(), nullable=True),
        sa.Column("tls_verify", sa.Boolean(), nullable=False),
        sa.Column("ca_pem", sa.Text(), nullable=True),
        sa.Column("repositories", sa.String(length=255), nullable=False),
        sa.Column("tags", sa.String(length=128), nullable=False),
        sa.Column("destination", sa.String(length=255), nullable=False),
        sa.Column("on_push", sa.Boolean(), nullable=False),
        sa.Column("schedule_minutes", sa.Integer(), nullable=True),
        sa.Column("next_run_at", _WHEN, nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_rules")),
        sa.UniqueConstraint("name", name=op.f("uq_replication_rules_name")),
    )
    op.create_table(
        "replication_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("started_by", sa.String(length=64), nullable=False),
        sa.Column("started_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("copied", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["replication_rules.id"],
            name=op.f("fk_replication_runs_rule_id_replication_rules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_runs")),
    )
    with op.batch_alter_table("replication_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replication_runs_rule_id_id"), ["rule_id", "id"], unique=False
        )
    op.create_table(
        "replication_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("lease_owner", sa.String(length=36), nullable=True),
        sa.Column("lease_until", _WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_pushes")),
    )


def downgrade() -> None:
    op.drop_table("replication_pushes")
    with op.batch_alter_table("replication_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replication_runs_rule_id_id"))
    op.drop_table("replication_runs")
    op.drop_table("replication_rules")
