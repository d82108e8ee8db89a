"""robot accounts: an organisation's scoped, expiring credentials for clients

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-04 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "robot_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("repositories", sa.Text(), nullable=False),
        sa.Column("actions", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["namespaces.id"],
            name=op.f("fk_robot_accounts_namespace_id_namespaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_robot_accounts")),
        sa.UniqueConstraint(
            "namespace_id", "name", name=op.f("uq_robot_accounts_namespace_id_name")
        ),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_robot_accounts_secret_hash")),
    )


def downgrade() -> None:
    op.drop_table("robot_accounts")
