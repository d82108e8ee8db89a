"""Names, tags and digests ending in a newline are refused in the spec's JSON, never stored.

A pattern anchored with `$` also matches before a trailing newline; every pattern is matched
whole instead.
"""

from __future__ import annotations

from registry.oci import mediatypes as mt
from tests.api.conftest import image_manifest, sha256
from tests.api.hub.conftest import ADMIN
from tests.api.hub.push import push


async def _error_code(resp) -> str:
    body = await resp.json()
    return body["errors"][0]["code"]


async def test_a_tag_ending_in_a_newline_is_refused(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    config = b'{"architecture": "arm64", "os": "linux", "seed": "a"}'
    layers = [f"layer-a-{i}".encode() * 50 for i in range(2)]
    payload = image_manifest(config, layers)
    resp = await hub.client.put(
        "/v2/alice/app/manifests/nl2%0A",
        data=payload,
        headers={**alice, "Content-Type": mt.OCI_MANIFEST},
    )
    assert resp.status == 400
    assert await _error_code(resp) == "MANIFEST_INVALID"
    tags = await (await hub.client.get("/v2/alice/app/tags/list", headers=alice)).json()
    assert tags["tags"] == ["v1"]
    resp = await hub.client.get("/v2/alice/app/manifests/v1%0A", headers=alice)
    assert resp.status == 404
    assert await _error_code(resp) == "MANIFEST_UNKNOWN"


async def test_a_digest_ending_in_a_newline_is_refused(hub):
    alice = await hub.add_user("alice")
    blob = b"some bytes"
    resp = await hub.client.post(
        f"/v2/alice/app/blobs/uploads/?digest={sha256(blob)}%0A", data=blob, headers=alice
    )
    assert resp.status == 400
    assert await _error_code(resp) == "DIGEST_INVALID"
    resp = await hub.client.post(
        f"/v2/alice/app/blobs/uploads/?digest={sha256(blob)}", data=blob, headers=alice
    )
    assert resp.status == 201
    resp = await hub.client.get(f"/v2/alice/app/blobs/{sha256(blob)}%0A", headers=alice)
    assert resp.status == 400
    assert await _error_code(resp) == "DIGEST_INVALID"


async def test_a_name_ending_in_a_newline_is_refused(hub):
    alice = await hub.add_user("alice")
    for path in (
        "/v2/alice/app%0A/blobs/uploads/",
        "/v2/app%0A/blobs/uploads/",
    ):
        resp = await hub.client.post(path, headers=alice)
        assert resp.status == 400, path
        assert await _error_code(resp) == "NAME_INVALID"
    assert await push(hub.client, "alice/app%0A", "v1", alice) == 400
    catalog = await (await hub.client.get("/v2/_catalog", headers=ADMIN)).json()
    assert catalog["repositories"] == []
    resp = await hub.client.get("/api/v1/repositories/alice/app%0A", headers=alice)
    assert resp.status == 400
    assert await _error_code(resp) == "NAME_INVALID"
