"""An in-process hub per test, driven over real HTTP, on each backend pair.

`settings` is parametrised: `sqlite-fs` (SQLite + filesystem in a temp dir) and `pg-s3`
(a fresh PostgreSQL database of the session cluster + a fresh bucket on the moto server), so
every API test runs on both.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from registry.app import create_app
from registry.db.engine import create_engine
from registry.oci import mediatypes as mt
from registry.settings import Settings
from tests.support.hub import REPO_ROOT, repo_env


@pytest.fixture(scope="session")
def api_database(postgres) -> str:
    """One migrated PostgreSQL database for the API suite; each test empties it."""
    url = postgres.create_database("api")
    subprocess.run(
        [sys.executable, "-m", "registry", "db", "upgrade", "--database", url],
        cwd=REPO_ROOT, env=repo_env(), check=True, capture_output=True,
    )
    return url


async def _empty_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            names = (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                        " AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            quoted = ", ".join(f'"{name}"' for name in names)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite-fs", "pg-s3"])
async def settings(request, tmp_path):
    if request.param == "sqlite-fs":
        # The core API suite runs the open registry; tests/api/hub covers authentication.
        return Settings(data_dir=tmp_path / "data", auth_enabled=False).resolve()
    database_url = request.getfixturevalue("api_database")
    s3_server = request.getfixturevalue("s3_server")
    await _empty_tables(database_url)
    return Settings(
        data_dir=tmp_path / "data",
        auth_enabled=False,
        database_url=database_url,
        storage_url=f"s3://{s3_server.new_bucket('api')}/hub",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_path_style=True,
    ).resolve()


@pytest.fixture
async def client(aiohttp_client, settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Pushed:
    digest: str
    payload: bytes
    config: bytes
    layers: list[bytes]


async def push_blob(client: TestClient, name: str, data: bytes) -> str:
    digest = sha256(data)
    resp = await client.post(f"/v2/{name}/blobs/uploads/?digest={digest}", data=data)
    assert resp.status == 201, await resp.text()
    return digest


def image_manifest(config: bytes, layers: list[bytes], **extra) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": {"mediaType": mt.OCI_CONFIG, "digest": sha256(config), "size": len(config)},
        "layers": [
            {"mediaType": mt.OCI_LAYER_GZIP, "digest": sha256(layer), "size": len(layer)}
            for layer in layers
        ],
        **extra,
    }
    return json.dumps(doc).encode()


async def push_image(
    client: TestClient, name: str, tag: str | None, *, seed: str = "a", **extra
) -> Pushed:
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layers = [f"layer-{seed}-{i}".encode() * 100 for i in range(2)]
    for blob in [config, *layers]:
        await push_blob(client, name, blob)
    payload = image_manifest(config, layers, **extra)
    digest = sha256(payload)
    resp = await client.put(
        f"/v2/{name}/manifests/{tag or digest}",
        data=payload,
        headers={"Content-Type": mt.OCI_MANIFEST},
    )
    assert resp.status == 201, await resp.text()
    assert resp.headers["Docker-Content-Digest"] == digest
    return Pushed(digest, payload, config, layers)


async def error_code(resp) -> str:
    body = await resp.json()
    return body["errors"][0]["code"]
