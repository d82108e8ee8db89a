"""content trust required: per repository (on, off or inherit) and per namespace

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 22:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: the repository follows its namespace's setting.
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trust_required", sa.Boolean(), nullable=True))
    with op.batch_alter_table("namespaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("trust_required", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("namespaces", schema=None) as batch_op:
        batch_op.drop_column("trust_required")
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.drop_column("trust_required")
