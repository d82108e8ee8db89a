"""The hub's Alembic migrations create exactly the trust tables `SqlMetaStore` uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from registry.db.engine import create_engine, sqlite_url_for
from registry.db.migrate import upgrade_schema
from trust.server.store.base import MetaUpdate
from trust.server.store.sql import TRUST_METADATA, SqlMetaStore


async def test_migrated_schema_matches_the_trust_tables(tmp_path):
    engine = create_engine(sqlite_url_for(str(tmp_path / "hub.db")))
    try:
        await upgrade_schema(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), TRUST_METADATA)
            )
        trust_diff = [d for d in diff if "trust_" in repr(d) and d[0] != "remove_table"]
        assert trust_diff == []
        store = SqlMetaStore(engine)
        await store.update_many("hub/app", [MetaUpdate("root", 1, b"r")])
        assert (await store.get_current("hub/app", "root")).data == b"r"
    finally:
        await engine.dispose()
