"""immutable tags: tag patterns per namespace or repository that keep tags fixed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 06:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "immutable_tag_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=255), nullable=False),
        sa.Column("pattern", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_immutable_tag_rules")),
        sa.UniqueConstraint("scope", "pattern", name=op.f("uq_immutable_tag_rules_scope_pattern")),
    )


def downgrade() -> None:
    op.drop_table("immutable_tag_rules")
