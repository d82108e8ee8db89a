"""What blob pushes leave in storage: verified bytes at their content-addressed path, nothing
else. Runs on both backends; on S3 the monolithic paths are a single PUT (small or announced
bodies) or a multipart upload (streamed bodies), the chunked ones a multipart upload.
"""

from __future__ import annotations

import asyncio

import pytest

from registry import keys
from registry.app import create_app
from registry.oci.digest import Digest
from registry.storage.driver.base import PathNotFoundError
from registry.storage.paths import blob_path
from tests.api.conftest import error_code, sha256

PART = 8 * 1024 * 1024  # the S3 driver's default part size


def payload(size: int, seed: int = 0) -> bytes:
    return (bytes(range(256)) * (size // 256 + 1))[seed : seed + size]


async def streamed(data: bytes):
    """A body without Content-Length (chunked transfer), as docker sends layers."""
    for offset in range(0, len(data), 1 << 20):
        yield data[offset : offset + (1 << 20)]


async def leftovers(client) -> list[str]:
    """Upload sessions, and (S3) multipart uploads, still in storage."""
    driver = client.server.app[keys.DRIVER]
    try:
        sessions = await driver.list("uploads")
    except PathNotFoundError:
        sessions = []
    if driver.name == "s3":
        listed = await asyncio.to_thread(driver.client.list_multipart_uploads, Bucket=driver.bucket)
        sessions += [u["Key"] for u in listed.get("Uploads", [])]
    return sessions


async def stored(client, digest: str) -> bytes | None:
    driver = client.server.app[keys.DRIVER]
    try:
        return await driver.get_content(blob_path(Digest.parse(digest)))
    except PathNotFoundError:
        return None


@pytest.mark.parametrize(
    ("size", "stream"), [(1000, False), (PART + 5, False), (PART + 5, True)],
    ids=["small", "one-put", "streamed"],
)
async def test_wrong_digest_monolithic_push_is_refused_and_leaves_nothing(client, size, stream):
    data = payload(size)
    wrong = sha256(payload(size, 1))
    body = streamed(data) if stream else data
    resp = await client.post(f"/v2/st/app/blobs/uploads/?digest={wrong}", data=body)
    assert resp.status == 400
    assert await error_code(resp) == "DIGEST_INVALID"
    for digest in (wrong, sha256(data)):
        assert (await client.head(f"/v2/st/app/blobs/{digest}")).status == 404
        assert await stored(client, digest) is None
    assert await leftovers(client) == []


@pytest.mark.parametrize(
    ("size", "stream"), [(1000, False), (PART + 5, False), (PART + 5, True)],
    ids=["small", "one-put", "streamed"],
)
async def test_monolithic_push_lands_at_its_digest_only(client, size, stream):
    data = payload(size)
    body = streamed(data) if stream else data
    resp = await client.post(f"/v2/st/app/blobs/uploads/?digest={sha256(data)}", data=body)
    assert resp.status == 201
    assert await (await client.get(f"/v2/st/app/blobs/{sha256(data)}")).read() == data
    assert await stored(client, sha256(data)) == data
    assert await leftovers(client) == []


async def test_wrong_body_for_a_stored_digest_changes_nothing(client):
    data = payload(PART + 5)
    digest = sha256(data)
    resp = await client.post(f"/v2/st/app/blobs/uploads/?digest={digest}", data=data)
    assert resp.status == 201
    forged = payload(len(data), 7)  # same length, other bytes
    resp = await client.post(f"/v2/other/app/blobs/uploads/?digest={digest}", data=forged)
    assert resp.status == 400
    assert await error_code(resp) == "DIGEST_INVALID"
    session = await client.post("/v2/other/app/blobs/uploads/")
    resp = await client.put(f"{session.headers['Location']}?digest={digest}", data=forged)
    assert resp.status == 400
    assert await error_code(resp) == "DIGEST_INVALID"
    assert (await client.head(f"/v2/other/app/blobs/{digest}")).status == 404
    assert await stored(client, digest) == data
    assert await (await client.get(f"/v2/st/app/blobs/{digest}")).read() == data


async def test_pushing_a_stored_blob_again_keeps_it(client):
    data = payload(3000)
    for name in ("st/app", "st/again", "st/again"):
        resp = await client.post(f"/v2/{name}/blobs/uploads/?digest={sha256(data)}", data=data)
        assert resp.status == 201
        assert await (await client.get(f"/v2/{name}/blobs/{sha256(data)}")).read() == data
    assert await leftovers(client) == []


@pytest.mark.parametrize("size", [1000, 2 * PART + 3])
async def test_put_with_the_whole_body_on_a_session(client, size):
    data = payload(size)
    session = await client.post("/v2/st/app/blobs/uploads/")
    resp = await client.put(f"{session.headers['Location']}?digest={sha256(data)}", data=data)
    assert resp.status == 201
    assert await (await client.get(f"/v2/st/app/blobs/{sha256(data)}")).read() == data
    assert await leftovers(client) == []


async def test_streamed_patch_then_put_across_parts(client):
    """docker's way: one PATCH without Content-Length, then PUT with the digest only."""
    data = payload(2 * PART + 11)
    session = await client.post("/v2/st/app/blobs/uploads/")
    resp = await client.patch(session.headers["Location"], data=streamed(data))
    assert resp.status == 202
    assert resp.headers["Range"] == f"0-{len(data) - 1}"
    resp = await client.put(f"{resp.headers['Location']}?digest={sha256(b'x')}")
    assert resp.status == 400  # a wrong digest keeps the session
    resp = await client.put(f"{session.headers['Location']}?digest={sha256(data)}")
    assert resp.status == 201
    assert await stored(client, sha256(data)) == data
    assert await leftovers(client) == []


async def test_racing_chunks_on_two_processes_never_store_the_wrong_bytes(
    aiohttp_client, settings
):
    """Two hub processes take equal-length chunks for one offset at once; whichever digest the
    client then claims, a blob is stored only when its bytes are exactly those. The process
    that started the session (and so holds a running digest) is asked first.
    """
    replicas = [await aiohttp_client(create_app(settings)) for _ in range(2)]
    bodies = [b"A" * 4000, b"B" * 4000]
    for attempt in range(6):
        order = [attempt % 2, 1 - attempt % 2]
        resp = await replicas[order[0]].post("/v2/race/app/blobs/uploads/")
        location = resp.headers["Location"]
        await asyncio.gather(
            *(
                replica.patch(location, data=body, headers={"Content-Range": "0-3999"})
                for replica, body in zip(replicas, bodies, strict=True)
            )
        )
        for index in order:
            replica, body = replicas[index], bodies[index]
            resp = await replica.put(f"{location}?digest={sha256(body)}")
            assert resp.status in (201, 400, 404)
            if resp.status == 201:
                assert await stored(replica, sha256(body)) == body
                pulled = await replica.get(f"/v2/race/app/blobs/{sha256(body)}")
                assert await pulled.read() == body
        for body in bodies:  # start clean for the next attempt
            await replicas[0].delete(f"/v2/race/app/blobs/{sha256(body)}")
