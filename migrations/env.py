"""Alembic environment: runs on the connection the caller hands in (see registry.db.migrate)."""

from __future__ import annotations

from alembic import context

from registry.db import (
    hub_models,  # noqa: F401  (registers the Hub tables on Base)
    replication_models,  # noqa: F401  (registers the replication tables on Base)
    webhook_models,  # noqa: F401  (registers the webhook tables on Base)
)
from registry.db.models import Base
from trust.server.store.sql import TRUST_METADATA

target_metadata = [Base.metadata, TRUST_METADATA]


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through `berth-hub db upgrade`")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
