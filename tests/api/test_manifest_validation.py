"""Manifests and indexes are validated field by field at push, so reading them never fails.

Also: rows stored before that validation (an index whose `platform` is a string) still serve.
"""

from __future__ import annotations

import json

import pytest

from registry import keys
from registry.db import queries
from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, push_image, sha256

DOCKER_ONLY = {"Accept": f"{mt.DOCKER_MANIFEST}, {mt.OCI_MANIFEST}"}


def _index(child: dict) -> dict:
    return {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [child]}


def _child(pushed, **fields) -> dict:
    return {
        "mediaType": mt.OCI_MANIFEST,
        "digest": pushed.digest,
        "size": len(pushed.payload),
        **fields,
    }


async def _state(client, name: str) -> tuple[int, bytes]:
    resp = await client.get(f"/v2/{name}/tags/list")
    return resp.status, await resp.read()


@pytest.mark.parametrize(
    "fields",
    [
        {"platform": "linux/amd64"},
        {"platform": ["linux", "amd64"]},
        {"platform": {"os": "linux"}},
        {"platform": {"os": "linux", "architecture": 64}},
        {"platform": {"os": "linux", "architecture": "amd64", "variant": 8}},
        {"platform": {"os": "linux", "architecture": "amd64", "os.features": "x"}},
        {"annotations": {"a": 1}},
        {"annotations": "a=b"},
        {"artifactType": 5},
        {"urls": "http://x"},
        {"size": 2**64},
        {"size": True},
        {"digest": 12},
    ],
    ids=str,
)
async def test_ill_typed_index_descriptor_is_refused_and_changes_nothing(client, fields):
    pushed = await push_image(client, "iv/app", "base")
    before = await _state(client, "iv/app")
    body = json.dumps(_index(_child(pushed, **fields))).encode()
    resp = await client.put(
        "/v2/iv/app/manifests/multi", data=body, headers={"Content-Type": mt.OCI_INDEX}
    )
    assert resp.status == 400, await resp.text()
    assert await error_code(resp) == "MANIFEST_INVALID"
    assert await _state(client, "iv/app") == before
    assert (await client.get(f"/v2/iv/app/manifests/{sha256(body)}")).status == 404


@pytest.mark.parametrize(
    "doc",
    [
        {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": {"a": 1}},
        {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": None},
        {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [], "annotations": []},
        {"schemaVersion": 2, "mediaType": 7, "manifests": []},
        {"schemaVersion": True, "mediaType": mt.OCI_INDEX, "manifests": []},
        {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [], "subject": "x"},
        {"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": {}, "layers": {}},
    ],
    ids=str,
)
async def test_ill_typed_top_level_fields_are_refused(client, doc):
    resp = await client.put(
        "/v2/iv/top/manifests/v1",
        data=json.dumps(doc).encode(),
        headers={"Content-Type": doc["mediaType"] if isinstance(doc["mediaType"], str) else ""},
    )
    assert resp.status == 400, await resp.text()
    assert await error_code(resp) == "MANIFEST_INVALID"


async def test_well_typed_platform_index_is_served_to_old_clients(client):
    pushed = await push_image(client, "iv/ok", "base")
    platform = {"os": "linux", "architecture": "amd64", "os.features": ["x"], "variant": "v1"}
    body = json.dumps(_index(_child(pushed, platform=platform))).encode()
    resp = await client.put(
        "/v2/iv/ok/manifests/multi", data=body, headers={"Content-Type": mt.OCI_INDEX}
    )
    assert resp.status == 201, await resp.text()
    served = await client.get("/v2/iv/ok/manifests/multi", headers=DOCKER_ONLY)
    assert served.status == 200
    assert await served.read() == pushed.payload


async def test_index_stored_before_validation_still_serves(client):
    """A row written by an earlier version (string platform) is served, never a 500."""
    pushed = await push_image(client, "iv/old", "base")
    body = json.dumps(_index(_child(pushed, platform="linux/amd64"))).encode()
    digest = sha256(body)
    async with client.app[keys.ENGINE].begin() as conn:
        repo_id = await queries.ensure_repository(conn, "iv/old")
        await queries.put_manifest(
            conn,
            repo_id,
            digest=digest,
            media_type=mt.OCI_INDEX,
            artifact_type=None,
            subject_digest=None,
            annotations=None,
            payload=body,
            references=[(pushed.digest, "manifest")],
        )
        await queries.set_tag(conn, repo_id, "multi", digest)
    for accept in ({}, {"Accept": mt.OCI_INDEX}):
        resp = await client.get("/v2/iv/old/manifests/multi", headers=accept)
        assert resp.status == 200, (accept, await resp.text())
        assert await resp.read() == body
    # A client that cannot read indexes gets no platform out of it: Distribution's refusal.
    resp = await client.get("/v2/iv/old/manifests/multi", headers=DOCKER_ONLY)
    assert resp.status == 404, await resp.text()
    assert await error_code(resp) == "MANIFEST_UNKNOWN"
    listed = await client.get("/api/v1/repositories/iv/old/tags")
    assert listed.status == 200, await listed.text()
    assert {tag["name"] for tag in (await listed.json())["tags"]} == {"base", "multi"}
