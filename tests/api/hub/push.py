"""Pushing and pulling a small image with explicit headers (bearer or basic credentials)."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient

from registry.oci import mediatypes as mt
from tests.api.conftest import image_manifest, sha256


async def push(
    client: TestClient, name: str, tag: str, headers: dict[str, str], *, seed: str = "a"
) -> int:
    """Push a two-layer image; the first failing status, or 201 when the manifest went in."""
    config = json.dumps({"architecture": "arm64", "os": "linux", "seed": seed}).encode()
    layers = [f"layer-{seed}-{i}".encode() * 50 for i in range(2)]
    for blob in [config, *layers]:
        resp = await client.post(
            f"/v2/{name}/blobs/uploads/?digest={sha256(blob)}", data=blob, headers=headers
        )
        if resp.status != 201:
            return resp.status
    payload = image_manifest(config, layers)
    resp = await client.put(
        f"/v2/{name}/manifests/{tag}",
        data=payload,
        headers={**headers, "Content-Type": mt.OCI_MANIFEST},
    )
    return resp.status


async def pull_status(client: TestClient, name: str, tag: str, headers: dict[str, str]) -> int:
    resp = await client.get(
        f"/v2/{name}/manifests/{tag}", headers={**headers, "Accept": mt.OCI_MANIFEST}
    )
    return resp.status
