"""An in-process hub per test (SQLite + filesystem in a temp dir), driven over real HTTP."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient

from registry.app import create_app
from registry.oci import mediatypes as mt
from registry.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data").resolve()


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
