"""Pull workflow for blobs: GET/HEAD with Range, DELETE, digests of both algorithms."""

from __future__ import annotations

import asyncio
import hashlib
import os

from tests.api.conftest import error_code, push_blob, sha256


async def test_version_check(client):
    resp = await client.get("/v2/")
    assert resp.status == 200
    assert resp.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert await resp.json() == {}


async def test_health_and_metrics(client):
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200
    await client.get("/v2/")
    text = await (await client.get("/metrics")).text()
    assert 'berth_http_requests_total{method="GET",route="base",status="200"} 1' in text


async def test_blob_get_and_head(client):
    data = b"hello blob" * 1000
    digest = await push_blob(client, "team/app", data)
    head = await client.head(f"/v2/team/app/blobs/{digest}")
    assert head.status == 200
    assert head.headers["Content-Length"] == str(len(data))
    assert head.headers["Docker-Content-Digest"] == digest
    get = await client.get(f"/v2/team/app/blobs/{digest}")
    assert get.status == 200
    assert await get.read() == data
    assert get.headers["Docker-Content-Digest"] == digest
    assert get.headers["Content-Type"] == "application/octet-stream"


async def test_blob_range_requests(client):
    data = bytes(range(256)) * 40
    digest = await push_blob(client, "r/app", data)
    part = await client.get(f"/v2/r/app/blobs/{digest}", headers={"Range": "bytes=10-19"})
    assert part.status == 206
    assert await part.read() == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    beyond = await client.get(f"/v2/r/app/blobs/{digest}", headers={"Range": "bytes=999999-"})
    assert beyond.status == 416


async def test_large_blob_whole_ranged_and_concurrent(client):
    # Over a megabyte: served by the threaded sendfile path on the filesystem driver.
    data = os.urandom(3 * 1024 * 1024 + 17)
    digest = await push_blob(client, "big/app", data)
    url = f"/v2/big/app/blobs/{digest}"

    async def whole() -> bytes:
        resp = await client.get(url)
        assert resp.status == 200
        assert resp.headers["Content-Length"] == str(len(data))
        return await resp.read()

    # More pulls at once than the sending threads: the rest take the event loop's path.
    bodies = await asyncio.gather(*(whole() for _ in range(12)))
    assert all(body == data for body in bodies)
    start = 1024 * 1024 + 5
    part = await client.get(url, headers={"Range": f"bytes={start}-"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes {start}-{len(data) - 1}/{len(data)}"
    assert await part.read() == data[start:]


async def test_abandoned_large_pull_leaves_the_server_serving(client):
    data = os.urandom(8 * 1024 * 1024)
    digest = await push_blob(client, "big/gone", data)
    url = f"/v2/big/gone/blobs/{digest}"
    for _ in range(10):  # more than the sending threads, each dropped after one read
        resp = await client.get(url)
        await resp.content.read(1024)
        resp.close()
    resp = await client.get(url)
    assert hashlib.sha256(await resp.read()).hexdigest() == digest.split(":")[1]


async def test_unknown_blob_is_blob_unknown(client):
    await push_blob(client, "x/app", b"something")
    missing = sha256(b"not pushed")
    for method in ("GET", "HEAD"):
        resp = await client.request(method, f"/v2/x/app/blobs/{missing}")
        assert resp.status == 404
    assert await error_code(await client.get(f"/v2/x/app/blobs/{missing}")) == "BLOB_UNKNOWN"


async def test_blob_is_only_readable_in_repositories_it_is_linked_to(client):
    digest = await push_blob(client, "one/app", b"private bytes")
    resp = await client.get(f"/v2/two/app/blobs/{digest}")
    assert resp.status == 404


async def test_invalid_digest_and_name(client):
    resp = await client.get("/v2/x/app/blobs/sha256:nothex")
    assert resp.status == 400
    assert await error_code(resp) == "DIGEST_INVALID"
    resp = await client.get(f"/v2/UPPER/app/blobs/{sha256(b'x')}")
    assert resp.status == 400
    assert await error_code(resp) == "NAME_INVALID"


async def test_sha512_blob(client):
    data = b"sha512 content"
    digest = "sha512:" + hashlib.sha512(data).hexdigest()
    resp = await client.post(f"/v2/x/app/blobs/uploads/?digest={digest}", data=data)
    assert resp.status == 201
    get = await client.get(f"/v2/x/app/blobs/{digest}")
    assert await get.read() == data


async def test_delete_blob(client):
    digest = await push_blob(client, "d/app", b"delete me")
    resp = await client.delete(f"/v2/d/app/blobs/{digest}")
    assert resp.status == 202
    assert (await client.head(f"/v2/d/app/blobs/{digest}")).status == 404
    again = await client.delete(f"/v2/d/app/blobs/{digest}")
    assert again.status == 404
    assert await error_code(again) == "BLOB_UNKNOWN"
