"""Apply or check Alembic migrations on an async engine (SQLite and PostgreSQL alike)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

logger = logging.getLogger(__name__)

__all__ = ["SchemaBehindError", "alembic_config", "check_schema", "upgrade_schema"]


class SchemaBehindError(RuntimeError):
    """The database schema is older than this code; run `berth-hub db upgrade`."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _downgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, revision)


def _current_and_head(connection: Connection) -> tuple[str | None, str | None]:
    current = MigrationContext.configure(connection).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    return current, head


async def upgrade_schema(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)


async def downgrade_schema(engine: AsyncEngine, revision: str) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_downgrade, revision)


async def check_schema(engine: AsyncEngine) -> None:
    """Raise `SchemaBehindError` unless the database is at the newest revision."""
    async with engine.connect() as conn:
        current, head = await conn.run_sync(_current_and_head)
    if current != head:
        raise SchemaBehindError(
            f"database schema is at {current or 'nothing'}, this hub needs {head}: "
            "run `berth-hub db upgrade`"
        )
