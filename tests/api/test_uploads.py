"""Push workflow for blobs: monolithic, chunked, streamed, resumable, mount, bad input."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from registry.app import create_app
from tests.api.conftest import error_code, push_blob, sha256


async def start(client, name="up/app"):
    resp = await client.post(f"/v2/{name}/blobs/uploads/")
    assert resp.status == 202
    assert resp.headers["Docker-Upload-UUID"]
    return resp.headers["Location"]


async def test_monolithic_post_put(client):
    data = b"monolithic" * 500
    location = await start(client)
    resp = await client.put(f"{location}?digest={sha256(data)}", data=data)
    assert resp.status == 201
    assert resp.headers["Location"] == f"/v2/up/app/blobs/{sha256(data)}"
    assert resp.headers["Docker-Content-Digest"] == sha256(data)
    assert await (await client.get(resp.headers["Location"])).read() == data


async def test_chunked_upload_with_status(client):
    data = bytes(range(256)) * 100
    location = await start(client)
    chunks = [data[:10000], data[10000:20000], data[20000:]]
    offset = 0
    for chunk in chunks:
        resp = await client.patch(
            location,
            data=chunk,
            headers={
                "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                "Content-Type": "application/octet-stream",
            },
        )
        assert resp.status == 202, await resp.text()
        offset += len(chunk)
        assert resp.headers["Range"] == f"0-{offset - 1}"
        location = resp.headers["Location"]
        status = await client.get(location)
        assert status.status == 204
        assert status.headers["Range"] == f"0-{offset - 1}"
    resp = await client.put(f"{location}?digest={sha256(data)}")
    assert resp.status == 201
    assert await (await client.get(f"/v2/up/app/blobs/{sha256(data)}")).read() == data


async def test_streamed_patch_without_content_range(client):
    data = b"streamed" * 4096
    location = await start(client)

    async def body():
        for i in range(0, len(data), 1000):
            yield data[i : i + 1000]

    resp = await client.patch(location, data=body())
    assert resp.status == 202
    resp = await client.put(f"{resp.headers['Location']}?digest={sha256(data)}")
    assert resp.status == 201


async def test_out_of_order_chunk_is_416_and_upload_survives(client):
    data = b"0123456789" * 100
    location = await start(client)
    await client.patch(location, data=data[:500], headers={"Content-Range": "0-499"})
    bad = await client.patch(location, data=data[600:700], headers={"Content-Range": "600-699"})
    assert bad.status == 416
    assert bad.headers["Range"] == "0-499"
    good = await client.patch(location, data=data[500:], headers={"Content-Range": "500-999"})
    assert good.status == 202
    done = await client.put(f"{location}?digest={sha256(data)}")
    assert done.status == 201


async def test_wrong_digest_is_refused_and_nothing_stored(client):
    data = b"real content"
    wrong = sha256(b"other content")
    resp = await client.post(f"/v2/up/app/blobs/uploads/?digest={wrong}", data=data)
    assert resp.status == 400
    assert await error_code(resp) == "DIGEST_INVALID"
    assert (await client.head(f"/v2/up/app/blobs/{wrong}")).status == 404
    assert (await client.head(f"/v2/up/app/blobs/{sha256(data)}")).status == 404
    location = await start(client)
    await client.patch(location, data=data)
    resp = await client.put(f"{location}?digest={wrong}")
    assert resp.status == 400
    assert await error_code(resp) == "DIGEST_INVALID"
    assert (await client.head(f"/v2/up/app/blobs/{wrong}")).status == 404


async def test_truncated_upload_never_becomes_a_blob(client):
    data = b"x" * 10000
    location = await start(client)
    await client.patch(location, data=data[:4000], headers={"Content-Range": "0-3999"})
    resp = await client.put(f"{location}?digest={sha256(data)}")
    assert resp.status == 400
    assert (await client.get(f"/v2/up/app/blobs/{sha256(data)}")).status == 404
    # The session is still there and can be completed.
    resp = await client.patch(location, data=data[4000:], headers={"Content-Range": "4000-9999"})
    assert resp.status == 202
    assert (await client.put(f"{location}?digest={sha256(data)}")).status == 201


async def test_content_range_length_mismatch(client):
    location = await start(client)
    resp = await client.patch(location, data=b"abc", headers={"Content-Range": "0-9"})
    assert resp.status in (400, 416)


async def test_cancel_upload(client):
    location = await start(client)
    assert (await client.delete(location)).status == 204
    resp = await client.get(location)
    assert resp.status == 404
    assert await error_code(resp) == "BLOB_UPLOAD_UNKNOWN"


async def test_unknown_and_foreign_upload_ids(client):
    resp = await client.get("/v2/up/app/blobs/uploads/not-a-session")
    assert resp.status == 404
    assert await error_code(resp) == "BLOB_UPLOAD_UNKNOWN"
    location = await start(client, "owner/app")
    stolen = location.replace("owner/app", "thief/app")
    assert (await client.patch(stolen, data=b"x")).status == 404


async def test_put_without_digest_is_invalid(client):
    location = await start(client)
    resp = await client.put(location)
    assert resp.status == 400
    assert await error_code(resp) == "BLOB_UPLOAD_INVALID"


async def test_cross_repository_mount(client):
    digest = await push_blob(client, "src/app", b"shared layer")
    resp = await client.post(f"/v2/dst/app/blobs/uploads/?mount={digest}&from=src/app")
    assert resp.status == 201
    assert resp.headers["Location"] == f"/v2/dst/app/blobs/{digest}"
    assert await (await client.get(f"/v2/dst/app/blobs/{digest}")).read() == b"shared layer"


async def test_mount_of_missing_blob_falls_back_to_a_session(client):
    missing = sha256(b"nowhere")
    resp = await client.post(f"/v2/dst/app/blobs/uploads/?mount={missing}&from=src/app")
    assert resp.status == 202
    assert "/blobs/uploads/" in resp.headers["Location"]
    anonymous = await client.post(f"/v2/dst/app/blobs/uploads/?mount={missing}")
    assert anonymous.status == 202


async def test_upload_started_on_one_process_finishes_on_another(aiohttp_client, settings):
    """Two hub apps share storage and database: no upload state lives in one process."""
    first: TestClient = await aiohttp_client(create_app(settings))
    second: TestClient = await aiohttp_client(create_app(settings))
    data = b"abcdefgh" * 2000
    resp = await first.post("/v2/multi/app/blobs/uploads/")
    location = resp.headers["Location"]
    await first.patch(location, data=data[:5000], headers={"Content-Range": "0-4999"})
    status = await second.get(location)
    assert status.headers["Range"] == "0-4999"
    resp = await second.patch(
        location, data=data[5000:], headers={"Content-Range": f"5000-{len(data) - 1}"}
    )
    assert resp.status == 202
    resp = await second.put(f"{location}?digest={sha256(data)}")
    assert resp.status == 201
    assert await (await first.get(f"/v2/multi/app/blobs/{sha256(data)}")).read() == data
