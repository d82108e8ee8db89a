"""The token-signing keys: sealed at rest, kept across restarts, rotated and pruned.

Each test starts hubs in this process over the same database (SQLite or PostgreSQL), stops
and starts them again, and reads the `signing_keys` table directly, as an operator with
database access would.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import replace

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

from registry.app import create_app
from registry.auth.access import Access
from registry.auth.keyseal import SigningKeyError
from registry.auth.tokens import SigningKey, TokenIssuer, new_private_key_pem
from registry.db.engine import create_engine
from registry.db.migrate import upgrade_schema
from registry.settings import Settings
from tests.api.hub.conftest import ADMIN, Hub, bearer
from tests.support.hub import REPO_ROOT, repo_env

SCOPE = "repository:admin/app:pull,push"


async def start_hub(aiohttp_client, settings: Settings) -> Hub:
    return Hub(await aiohttp_client(create_app(settings)), settings)


async def stored_keys(settings: Settings) -> dict[str, str]:
    """kid -> the stored private key column, read straight from the database."""
    engine = create_engine(settings.database_url or "")
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT kid, private_pem FROM signing_keys"))
            return {row.kid: row.private_pem for row in rows}
    finally:
        await engine.dispose()


def kid_of(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


async def admin_token(hub: Hub) -> str:
    return str((await hub.token(ADMIN, SCOPE))["token"])


async def accepted(hub: Hub, token: str) -> int:
    """The status of a request that needs the token's pull access."""
    resp = await hub.client.get("/v2/admin/app/tags/list", headers=bearer(token))
    return resp.status


def hub_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "registry",
            *args,
            "--data",
            str(settings.data_dir),
            "--database",
            settings.database_url or "",
        ],
        cwd=REPO_ROOT,
        env=repo_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_no_plain_key(stored: dict[str, str]) -> None:
    assert stored
    for value in stored.values():
        assert "PRIVATE KEY" not in value
        assert value.startswith("berth-sealed:v1:")
        with pytest.raises(ValueError):
            serialization.load_pem_private_key(value.encode(), password=None)


async def test_the_database_holds_no_unencrypted_signing_key(hub):
    token = await admin_token(hub)
    stored = await stored_keys(hub.settings)
    assert list(stored) == [kid_of(token)]
    assert_no_plain_key(stored)
    if hub.settings.is_sqlite:
        # Nowhere in a dump of the whole database either.
        with closing(sqlite3.connect(hub.settings.data_dir / "berth.db")) as conn:
            dump = "\n".join(conn.iterdump())
        assert "signing_keys" in dump
        assert "PRIVATE KEY" not in dump


async def test_a_token_from_before_a_restart_is_accepted_with_the_same_secret(
    aiohttp_client, auth_settings
):
    first = await start_hub(aiohttp_client, auth_settings)
    token = await admin_token(first)
    assert await accepted(first, token) == 404  # authorised; the repository does not exist
    await first.client.close()
    again = await start_hub(aiohttp_client, auth_settings)
    assert await accepted(again, token) == 404
    assert kid_of(await admin_token(again)) == kid_of(token)


async def test_a_hub_with_another_secret_refuses_to_start(aiohttp_client, auth_settings):
    first = await start_hub(aiohttp_client, auth_settings)
    await admin_token(first)
    await first.client.close()
    wrong = replace(auth_settings, trust_key_secret="not-the-secret-that-sealed-the-key")
    with pytest.raises(SigningKeyError) as refused:
        await aiohttp_client(create_app(wrong))
    assert "BERTH_TRUST_KEY_SECRET" in str(refused.value)
    assert "trust_key_secret" in str(refused.value)


async def test_hubs_starting_together_on_an_empty_database_make_one_key(
    aiohttp_client, auth_settings
):
    auth_settings.data_dir.mkdir(parents=True)
    if auth_settings.is_sqlite:
        engine = create_engine(auth_settings.database_url or "")
        try:
            await upgrade_schema(engine)
        finally:
            await engine.dispose()
    replica = replace(auth_settings, auto_migrate=False)
    hubs = await asyncio.gather(*(start_hub(aiohttp_client, replica) for _ in range(3)))
    stored = await stored_keys(auth_settings)
    assert len(stored) == 1
    for hub in hubs:
        assert list(stored) == [kid_of(await admin_token(hub))]


async def test_a_plain_key_from_an_older_version_is_sealed_at_start(aiohttp_client, auth_settings):
    auth_settings.data_dir.mkdir(parents=True)
    engine = create_engine(auth_settings.database_url or "")
    try:
        if auth_settings.is_sqlite:
            await upgrade_schema(engine)
        old_pem = new_private_key_pem()
        old_key = SigningKey.from_pem(old_pem)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO signing_keys (kid, private_pem, created_at)"
                    " VALUES (:kid, :pem, CURRENT_TIMESTAMP)"
                ),
                {"kid": old_key.kid, "pem": old_pem},
            )
    finally:
        await engine.dispose()
    # A token the older version issued before the upgrade (an anonymous one: a user's token
    # from before tokens named their account is refused, whatever key signed it).
    issued_before = TokenIssuer(old_key, auth_settings.auth_service).access_token(
        "",
        [Access("repository", "admin/app", frozenset({"pull"}))],
        now=int(time.time()),
        ttl=300,
    )
    # Two hubs start at once, as replicas do; both seal the same row, one of them wins.
    # (The schema is migrated above: alembic cannot run twice at once in one process.)
    replica = replace(auth_settings, auto_migrate=False)
    hubs = await asyncio.gather(
        start_hub(aiohttp_client, replica), start_hub(aiohttp_client, replica)
    )
    stored = await stored_keys(auth_settings)
    assert list(stored) == [old_key.kid]
    assert_no_plain_key(stored)
    for hub in hubs:
        assert await accepted(hub, issued_before) == 404
        assert kid_of(await admin_token(hub)) == old_key.kid
    # Restarted, the sealed key opens again: nothing was left half-sealed.
    for hub in hubs:
        await hub.client.close()
    again = await start_hub(aiohttp_client, auth_settings)
    assert await accepted(again, issued_before) == 404


async def test_rotate_then_prune_signing_keys(aiohttp_client, auth_settings):
    running = await start_hub(aiohttp_client, auth_settings)
    old_token = await admin_token(running)
    old_kid = kid_of(old_token)

    rotated = hub_cli(auth_settings, "token", "rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = rotated.stdout.split()[4]
    assert new_kid != old_kid
    listed = hub_cli(auth_settings, "token", "keys").stdout
    assert f"{old_kid}" in listed and "verifies" in listed
    assert any(new_kid in line and "signs" in line for line in listed.splitlines())
    assert_no_plain_key(await stored_keys(auth_settings))

    # A hub started now signs with the new key; the old token still verifies there.
    started = await start_hub(aiohttp_client, auth_settings)
    new_token = await admin_token(started)
    assert kid_of(new_token) == new_kid
    assert await accepted(started, old_token) == 404
    # The hub that ran through the rotation accepts the new key's token at once, and signs
    # with the new key from then on.
    assert await accepted(running, new_token) == 404
    assert kid_of(await admin_token(running)) == new_kid
    assert await accepted(running, old_token) == 404

    kept = hub_cli(auth_settings, "token", "prune-keys", "--older-than", "30d")
    assert kept.returncode == 0, kept.stderr
    assert set(await stored_keys(auth_settings)) == {old_kid, new_kid}
    pruned = hub_cli(auth_settings, "token", "prune-keys", "--older-than", "0s")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.split() == ["dropped", "token", "signing", "key", old_kid]
    assert set(await stored_keys(auth_settings)) == {new_kid}

    for hub in (running, started):
        await hub.client.close()
    restarted = await start_hub(aiohttp_client, auth_settings)
    assert await accepted(restarted, old_token) == 401
    assert await accepted(restarted, new_token) == 404
