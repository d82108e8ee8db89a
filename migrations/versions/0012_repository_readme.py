"""repository README (full description) beside the short description

A repository's description was one Markdown text whose first line served as the summary. As on
Docker Hub, the README is now its own field (`full_description`); each existing description is
copied into it, so nothing shown on a repository page changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repository_profiles") as batch:
        batch.add_column(
            sa.Column("full_description", sa.Text(), nullable=False, server_default="")
        )
    op.execute("UPDATE repository_profiles SET full_description = description")


def downgrade() -> None:
    with op.batch_alter_table("repository_profiles") as batch:
        batch.drop_column("full_description")
