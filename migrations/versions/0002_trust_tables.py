"""trust server tables (metadata, change feed, server-held keys)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trust_metadata",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gun", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sha512", sa.String(length=128), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_metadata")),
        sa.UniqueConstraint("gun", "role", "version", name="uq_trust_metadata_gun_role_version"),
    )
    op.create_index(
        "ix_trust_metadata_gun_role_sha256", "trust_metadata", ["gun", "role", "sha256"]
    )
    op.create_table(
        "trust_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gun", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_changes")),
    )
    op.create_index(op.f("ix_trust_changes_gun"), "trust_changes", ["gun"])
    op.create_table(
        "trust_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("gun", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("keytype", sa.String(length=32), nullable=False),
        sa.Column("public", sa.LargeBinary(), nullable=False),
        sa.Column("encrypted_private", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_keys")),
        sa.UniqueConstraint("key_id", name="uq_trust_keys_key_id"),
    )
    op.create_index("ix_trust_keys_gun_role", "trust_keys", ["gun", "role"])


def downgrade() -> None:
    op.drop_index("ix_trust_keys_gun_role", table_name="trust_keys")
    op.drop_table("trust_keys")
    op.drop_index(op.f("ix_trust_changes_gun"), table_name="trust_changes")
    op.drop_table("trust_changes")
    op.drop_index("ix_trust_metadata_gun_role_sha256", table_name="trust_metadata")
    op.drop_table("trust_metadata")
