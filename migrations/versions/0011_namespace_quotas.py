"""namespace quotas: the most bytes a namespace's manifests may reference

Also a bytewise index on repository names (varchar_pattern_ops on PostgreSQL), so that a
namespace's repositories are an index range whatever the collation.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "namespace_quotas",
        sa.Column("namespace", sa.String(length=64), nullable=False),
        sa.Column("limit_bytes", sa.BigInteger(), nullable=False),
        sa.Column("charged_bytes", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("namespace", name=op.f("pk_namespace_quotas")),
    )
    op.create_index(
        "ix_repositories_name_bytewise",
        "repositories",
        ["name"],
        postgresql_ops={"name": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_repositories_name_bytewise", table_name="repositories")
    op.drop_table("namespace_quotas")
