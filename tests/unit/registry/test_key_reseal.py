"""`reseal_keys` on a real SQLite database: all keys or none, and only the ones that need it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from registry.auth.keyseal import KeySealer
from registry.auth.keystore import load_signing_keys, open_signing_keys
from registry.db import webhook_queries
from registry.db.engine import create_engine
from registry.db.migrate import upgrade_schema
from registry.keyreseal import KeyResealError, reseal_keys
from registry.webhooks.secretseal import WebhookSecretError, WebhookSecretSealer, new_secret
from trust.server.keyring import ServerKeyring
from trust.server.keyseal import KeySealError, ServerKeySealer
from trust.server.reseal import open_newest_server_key
from trust.server.store.sql import SqlMetaStore

OLD = b"old-secret-0123456789"
NEW = b"new-secret-0123456789"
OTHER = b"other-secret-012345678"


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'berth.db'}")
    await upgrade_schema(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


async def stored_columns(engine) -> list[bytes | str]:
    async with engine.connect() as conn:
        signing = (await conn.execute(text("SELECT private_pem FROM signing_keys"))).scalars()
        trust = (await conn.execute(text("SELECT encrypted_private FROM trust_keys"))).scalars()
        hooks = (await conn.execute(text("SELECT secret FROM webhooks"))).scalars()
        return [*signing, *(bytes(value) for value in trust), *hooks]


async def add_webhook(engine, sealer_secret: bytes, namespace: str = "team") -> str:
    """A webhook whose secret is sealed with `sealer_secret`; its secret."""
    secret = new_secret()
    async with engine.begin() as conn:
        await webhook_queries.insert_webhook(
            conn,
            namespace=namespace,
            repository=None,
            url="https://hooks.example/in",
            events=frozenset({"push"}),
            payload_format="docker",
            secret=WebhookSecretSealer(sealer_secret).seal(namespace, secret),
            now=datetime.now(UTC),
            actor="admin",
        )
    return secret


async def test_a_key_no_secret_opens_rolls_back_the_keys_re_sealed_before_it(engine):
    await load_signing_keys(engine, OLD)  # the first signing key, sealed with OLD
    await ServerKeyring(SqlMetaStore(engine), OLD).rotate("hub/team/app", "timestamp")
    await ServerKeyring(SqlMetaStore(engine), OTHER).rotate("hub/team/app", "snapshot")
    await add_webhook(engine, OLD)
    before = await stored_columns(engine)
    with pytest.raises(KeyResealError, match=r"neither the old nor the new.*nothing was changed"):
        await reseal_keys(engine, OLD, NEW)
    assert await stored_columns(engine) == before


async def test_keys_of_both_secrets_end_under_the_new_one(engine):
    await load_signing_keys(engine, OLD)
    await ServerKeyring(SqlMetaStore(engine), NEW).rotate("hub/team/app", "timestamp")
    await ServerKeyring(SqlMetaStore(engine), OLD).rotate("hub/team/app", "snapshot")
    report = await reseal_keys(engine, OLD, NEW)
    assert (report.signing.resealed, report.signing.already) == (1, 0)
    assert (report.trust.stored, report.trust.resealed, report.trust.already) == (2, 1, 1)
    async with engine.connect() as conn:
        assert await open_signing_keys(conn, KeySealer(NEW)) == 1
        assert await open_newest_server_key(conn, ServerKeySealer(NEW))
        with pytest.raises(KeySealError):
            await open_newest_server_key(conn, ServerKeySealer(OLD))
    with pytest.raises(KeyResealError, match="shorter than 16"):
        await reseal_keys(engine, NEW, b"short")


async def test_webhook_secrets_move_to_the_new_secret_and_one_neither_opens_stops_all(engine):
    await load_signing_keys(engine, OLD)
    kept = await add_webhook(engine, OLD, "team")
    already = await add_webhook(engine, NEW, "acme")
    report = await reseal_keys(engine, OLD, NEW)
    assert (report.webhooks.stored, report.webhooks.resealed, report.webhooks.already) == (2, 1, 1)
    async with engine.connect() as conn:
        stored = {ns: sealed for _, ns, sealed in await webhook_queries.stored_secrets(conn)}
    assert WebhookSecretSealer(NEW).open("team", stored["team"]) == kept
    assert WebhookSecretSealer(NEW).open("acme", stored["acme"]) == already
    with pytest.raises(WebhookSecretError):
        WebhookSecretSealer(OLD).open("team", stored["team"])
    await add_webhook(engine, OTHER, "stray")
    before = await stored_columns(engine)
    with pytest.raises(KeyResealError, match=r"webhook .* opens with neither"):
        await reseal_keys(engine, NEW, OLD)
    assert await stored_columns(engine) == before

