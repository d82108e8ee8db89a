"""HTTP semantics of the registry API: ranges, validators, negotiation, errors, common headers.

Runs on both backends: the filesystem (sendfile) path and the S3 streaming path.
"""

from __future__ import annotations

import json

import pytest

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, push_blob, push_image, sha256

DATA = bytes(range(256)) * 40  # 10,240 bytes
SIZE = len(DATA)


@pytest.fixture
async def blob(client) -> str:
    return await push_blob(client, "h/app", DATA)


async def _get(client, digest: str, **headers):
    return await client.get(f"/v2/h/app/blobs/{digest}", headers=headers)


@pytest.mark.parametrize(
    "header",
    ["items=0-1", "bytes=abc", "bytes= 1-2", "bytes=5-2", "bytes=0-1,4-5", "bytes=-", "bytes"],
)
async def test_ranges_the_rfc_lets_us_ignore_get_the_whole_blob(client, blob, header):
    resp = await _get(client, blob, Range=header)
    assert resp.status == 200, header
    assert await resp.read() == DATA
    assert "Content-Range" not in resp.headers


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=10-", 10, SIZE - 1),
        ("bytes=-10", SIZE - 10, SIZE - 1),
        ("bytes=-99999", 0, SIZE - 1),
        (f"bytes=5-{10**30}", 5, SIZE - 1),
        ("BYTES=1-2", 1, 2),
    ],
)
async def test_satisfiable_ranges_are_partial(client, blob, header, first, last):
    resp = await _get(client, blob, Range=header)
    assert resp.status == 206, header
    assert await resp.read() == DATA[first : last + 1]
    assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{SIZE}"


@pytest.mark.parametrize("header", ["bytes=-0", f"bytes={SIZE}-", f"bytes={10**30}-"])
async def test_unsatisfiable_ranges_are_416_in_the_spec_format(client, blob, header):
    resp = await _get(client, blob, Range=header)
    assert resp.status == 416, header
    assert resp.headers["Content-Range"] == f"bytes */{SIZE}"
    assert await error_code(resp) == "RANGE_INVALID"


async def test_if_range_applies_the_range_only_for_the_blobs_own_tag(client, blob):
    etag = f'"{blob}"'
    same = await _get(client, blob, Range="bytes=0-9", **{"If-Range": etag})
    assert same.status == 206
    assert await same.read() == DATA[:10]
    for other in ('"sha256:' + "0" * 64 + '"', f"W/{etag}", "Wed, 21 Oct 2015 07:28:00 GMT"):
        resp = await _get(client, blob, Range="bytes=0-9", **{"If-Range": other})
        assert resp.status == 200, other
        assert await resp.read() == DATA


async def test_get_and_head_send_the_same_validator_and_honour_if_none_match(client, blob):
    get = await _get(client, blob)
    head = await client.head(f"/v2/h/app/blobs/{blob}")
    assert get.headers["ETag"] == head.headers["ETag"] == f'"{blob}"'
    assert "Last-Modified" not in get.headers
    for match in (f'"{blob}"', f'W/"{blob}", "x"', "*"):
        resp = await _get(client, blob, **{"If-None-Match": match})
        assert resp.status == 304, match
        assert resp.headers["ETag"] == f'"{blob}"'
        head = await client.head(f"/v2/h/app/blobs/{blob}", headers={"If-None-Match": match})
        assert head.status == 304
    assert (await _get(client, blob, **{"If-None-Match": '"other"'})).status == 200


async def test_empty_blob_ignores_ranges(client):
    digest = await push_blob(client, "h/app", b"")
    resp = await _get(client, digest, Range="bytes=0-")
    assert resp.status == 200
    assert await resp.read() == b""


async def test_manifest_if_none_match_is_304(client):
    pushed = await push_image(client, "h/m", "v1")
    etag = f'"{pushed.digest}"'
    for reference in ("v1", pushed.digest):
        url = f"/v2/h/m/manifests/{reference}"
        get = await client.get(url, headers={"If-None-Match": etag})
        assert get.status == 304
        assert get.headers["Docker-Content-Digest"] == pushed.digest
        assert get.headers["ETag"] == etag
        head = await client.head(url, headers={"If-None-Match": etag})
        assert head.status == 304
        assert (await client.get(url, headers={"If-None-Match": '"x"'})).status == 200


async def test_oci_manifest_is_not_served_to_a_docker_schema2_only_client(client):
    pushed = await push_image(client, "h/oci", "v1")
    for reference in ("v1", pushed.digest):
        url = f"/v2/h/oci/manifests/{reference}"
        refused = await client.get(url, headers={"Accept": mt.DOCKER_MANIFEST})
        assert refused.status == 404
        body = await refused.json()
        assert body["errors"][0]["code"] == "MANIFEST_UNKNOWN"
        assert "accept header" in body["errors"][0]["message"]
        head = await client.head(url, headers={"Accept": mt.DOCKER_MANIFEST})
        assert head.status == 404
        # No Accept, a wildcard, or the OCI type itself: served.
        both = f"{mt.DOCKER_MANIFEST}, {mt.OCI_MANIFEST}"
        for accept in ({}, {"Accept": "*/*"}, {"Accept": both}):
            served = await client.get(url, headers=accept)
            assert served.status == 200, accept
            assert await served.read() == pushed.payload


async def test_oci_index_is_not_served_to_a_client_without_oci_index_support(client):
    child = await push_image(client, "h/idx", "child")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {"mediaType": mt.OCI_MANIFEST, "digest": child.digest, "size": len(child.payload)}
            ],
        }
    ).encode()
    resp = await client.put(
        "/v2/h/idx/manifests/multi", data=index, headers={"Content-Type": mt.OCI_INDEX}
    )
    assert resp.status == 201
    old = {"Accept": f"{mt.DOCKER_MANIFEST}, {mt.DOCKER_MANIFEST_LIST}"}
    refused = await client.get(f"/v2/h/idx/manifests/{sha256(index)}", headers=old)
    assert refused.status == 404
    assert await error_code(refused) == "MANIFEST_UNKNOWN"


async def test_unknown_route_and_method_answer_the_spec_json(client):
    missing = await client.get("/nowhere")
    assert missing.status == 404
    assert await error_code(missing) == "NOT_FOUND"
    wrong = await client.post("/v2/_catalog")
    assert wrong.status == 405
    assert wrong.headers["Allow"] == "GET"
    assert await error_code(wrong) == "UNSUPPORTED"


async def test_every_response_carries_the_common_headers(client, blob):
    answers = [
        await client.get("/v2/"),
        await client.get("/healthz"),
        await client.get("/v2/_catalog"),
        await _get(client, blob),
        await client.get("/v2/h/app/tags/list"),
        await client.get("/v2/h/app/manifests/nope"),
        await client.get("/nowhere"),
        await client.get("/api/v1/repositories"),
        await client.get("/v2/h/app/_trust/tuf/root.json"),
    ]
    for resp in answers:
        assert resp.headers["Docker-Distribution-API-Version"] == "registry/2.0", resp.url
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        assert "aiohttp" not in resp.headers["Server"].lower()
        assert "python" not in resp.headers["Server"].lower()
