"""Manifests: every supported type, validation, negotiation, deletion semantics."""

from __future__ import annotations

import json

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, image_manifest, push_blob, push_image, sha256


async def test_push_and_pull_by_tag_and_digest(client):
    pushed = await push_image(client, "m/app", "v1")
    for reference in ("v1", pushed.digest):
        resp = await client.get(
            f"/v2/m/app/manifests/{reference}", headers={"Accept": mt.OCI_MANIFEST}
        )
        assert resp.status == 200
        assert await resp.read() == pushed.payload
        assert resp.headers["Content-Type"] == mt.OCI_MANIFEST
        assert resp.headers["Docker-Content-Digest"] == pushed.digest
        head = await client.head(f"/v2/m/app/manifests/{reference}")
        assert head.status == 200
        assert head.headers["Content-Length"] == str(len(pushed.payload))
        assert head.headers["Docker-Content-Digest"] == pushed.digest


async def test_docker_schema2_and_manifest_list(client):
    config = b'{"architecture":"amd64","os":"linux"}'
    layer = b"docker layer"
    for blob in (config, layer):
        await push_blob(client, "d/app", blob)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST,
            "config": {
                "mediaType": mt.DOCKER_CONFIG,
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": [{"mediaType": mt.DOCKER_LAYER, "digest": sha256(layer), "size": len(layer)}],
        }
    ).encode()
    resp = await client.put(
        "/v2/d/app/manifests/amd64", data=manifest, headers={"Content-Type": mt.DOCKER_MANIFEST}
    )
    assert resp.status == 201
    listing = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.DOCKER_MANIFEST_LIST,
            "manifests": [
                {
                    "mediaType": mt.DOCKER_MANIFEST,
                    "digest": sha256(manifest),
                    "size": len(manifest),
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    ).encode()
    resp = await client.put(
        "/v2/d/app/manifests/latest",
        data=listing,
        headers={"Content-Type": mt.DOCKER_MANIFEST_LIST},
    )
    assert resp.status == 201
    got = await client.get(
        "/v2/d/app/manifests/latest",
        headers={"Accept": f"{mt.DOCKER_MANIFEST_LIST}, {mt.DOCKER_MANIFEST}"},
    )
    assert got.headers["Content-Type"] == mt.DOCKER_MANIFEST_LIST
    assert await got.read() == listing
    # A client that cannot read lists gets the linux/amd64 image (content negotiation).
    old = await client.get("/v2/d/app/manifests/latest", headers={"Accept": mt.DOCKER_MANIFEST})
    assert old.headers["Content-Type"] == mt.DOCKER_MANIFEST
    assert await old.read() == manifest


async def test_oci_index_requires_its_children(client):
    pushed = await push_image(client, "i/app", None)
    index = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {"mediaType": mt.OCI_MANIFEST, "digest": pushed.digest, "size": len(pushed.payload)}
        ],
    }
    resp = await client.put(
        "/v2/i/app/manifests/multi",
        data=json.dumps(index).encode(),
        headers={"Content-Type": mt.OCI_INDEX},
    )
    assert resp.status == 201
    index["manifests"][0]["digest"] = sha256(b"missing manifest")
    resp = await client.put(
        "/v2/i/app/manifests/broken",
        data=json.dumps(index).encode(),
        headers={"Content-Type": mt.OCI_INDEX},
    )
    assert resp.status == 400
    assert await error_code(resp) == "MANIFEST_BLOB_UNKNOWN"


async def test_manifest_with_missing_blob_is_refused(client):
    config = b"{}"
    await push_blob(client, "mb/app", config)
    payload = image_manifest(config, [b"never uploaded"])
    resp = await client.put(
        "/v2/mb/app/manifests/v1", data=payload, headers={"Content-Type": mt.OCI_MANIFEST}
    )
    assert resp.status == 400
    assert await error_code(resp) == "MANIFEST_BLOB_UNKNOWN"
    assert (await client.get("/v2/mb/app/manifests/v1")).status == 404


async def test_malformed_manifests_are_invalid_and_change_nothing(client):
    pushed = await push_image(client, "bad/app", "v1")
    cases = [
        b"not json",
        b"[]",
        json.dumps({"schemaVersion": 1}).encode(),
        json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "layers": []}).encode(),
        json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"digest": "bad"},
                "layers": [],
            }
        ).encode(),
    ]
    for body in cases:
        resp = await client.put(
            "/v2/bad/app/manifests/v1", data=body, headers={"Content-Type": mt.OCI_MANIFEST}
        )
        assert resp.status == 400, body
        assert await error_code(resp) == "MANIFEST_INVALID"
    still = await client.get("/v2/bad/app/manifests/v1")
    assert await still.read() == pushed.payload


async def test_oversized_manifest_is_refused(client, settings):
    pushed = await push_image(client, "big/app", "v1")
    huge = image_manifest(
        pushed.config, pushed.layers, annotations={"x": "y" * settings.max_manifest_bytes}
    )
    resp = await client.put(
        "/v2/big/app/manifests/v1", data=huge, headers={"Content-Type": mt.OCI_MANIFEST}
    )
    assert resp.status == 413
    assert await error_code(resp) == "SIZE_INVALID"
    assert await (await client.get("/v2/big/app/manifests/v1")).read() == pushed.payload


async def test_push_by_digest_must_match(client):
    pushed = await push_image(client, "dg/app", None)
    wrong = sha256(b"something else")
    resp = await client.put(
        f"/v2/dg/app/manifests/{wrong}",
        data=pushed.payload,
        headers={"Content-Type": mt.OCI_MANIFEST},
    )
    assert resp.status == 400
    assert await error_code(resp) == "DIGEST_INVALID"


async def test_unknown_manifest_and_invalid_tag(client):
    await push_image(client, "u/app", "v1")
    resp = await client.get("/v2/u/app/manifests/nope")
    assert resp.status == 404
    assert await error_code(resp) == "MANIFEST_UNKNOWN"
    resp = await client.put(
        "/v2/u/app/manifests/-bad-tag", data=b"{}", headers={"Content-Type": mt.OCI_MANIFEST}
    )
    assert resp.status == 400


async def test_delete_tag_keeps_manifest(client):
    pushed = await push_image(client, "del/app", "v1")
    assert (await client.delete("/v2/del/app/manifests/v1")).status == 202
    assert (await client.get("/v2/del/app/manifests/v1")).status == 404
    assert (await client.get(f"/v2/del/app/manifests/{pushed.digest}")).status == 200


async def test_delete_by_digest_removes_manifest_and_its_tags(client):
    pushed = await push_image(client, "del/app", "v1")
    assert (await client.delete(f"/v2/del/app/manifests/{pushed.digest}")).status == 202
    assert (await client.get(f"/v2/del/app/manifests/{pushed.digest}")).status == 404
    assert (await client.get("/v2/del/app/manifests/v1")).status == 404
    again = await client.delete(f"/v2/del/app/manifests/{pushed.digest}")
    assert again.status == 404
    assert await error_code(again) == "MANIFEST_UNKNOWN"


async def test_retag_moves_the_tag(client):
    first = await push_image(client, "t/app", "latest", seed="1")
    second = await push_image(client, "t/app", "latest", seed="2")
    assert first.digest != second.digest
    resp = await client.get("/v2/t/app/manifests/latest")
    assert resp.headers["Docker-Content-Digest"] == second.digest
