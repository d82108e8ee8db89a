"""Every migration applies, reverts and re-applies cleanly; the check notices a lagging schema."""

from __future__ import annotations

import pytest

from registry.db.engine import create_engine, sqlite_url_for
from registry.db.migrate import SchemaBehindError, check_schema, downgrade_schema, upgrade_schema


async def _round_trip(url: str) -> None:
    engine = create_engine(url)
    try:
        with pytest.raises(SchemaBehindError):
            await check_schema(engine)
        await upgrade_schema(engine)
        await check_schema(engine)
        await downgrade_schema(engine, "base")
        with pytest.raises(SchemaBehindError):
            await check_schema(engine)
        await upgrade_schema(engine)
        await check_schema(engine)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(tmp_path):
    await _round_trip(sqlite_url_for(str(tmp_path / "m.db")))


async def test_upgrade_downgrade_upgrade_on_postgresql(postgres):
    await _round_trip(postgres.create_database("migrations"))


async def test_migrated_schema_matches_the_registry_models(tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import registry.db.hub_models  # noqa: F401  (registers the hub's tables)
    from registry.db.models import Base

    engine = create_engine(sqlite_url_for(str(tmp_path / "m.db")))
    try:
        await upgrade_schema(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
    finally:
        await engine.dispose()
    # Trust's tables belong to its own metadata (checked in tests/contracts).
    assert [d for d in diff if "trust_" not in repr(d)] == []
