"""signature policies: content-addressed documents, named per repository and per namespace

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signature_policies",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_signature_policies")),
    )
    # NULL: the repository follows its namespace; a namespace's NULL means DCT only.
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature_policy", sa.String(length=64), nullable=True))
    with op.batch_alter_table("namespaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signature_policy", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("namespaces", schema=None) as batch_op:
        batch_op.drop_column("signature_policy")
    with op.batch_alter_table("repositories", schema=None) as batch_op:
        batch_op.drop_column("signature_policy")
    op.drop_table("signature_policies")
