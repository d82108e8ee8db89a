"""Kill -9 a hub in the middle of uploads: committed blobs survive, partial ones never show,
and an interrupted chunked upload resumes, also on a second hub process over the same data.

Issue 2 "Must show" (bad input and crashes) and its scale-out promise: no upload state that
matters lives only in one process's memory.
"""

from __future__ import annotations

import time

import pytest

from registry.oci import mediatypes
from tests.support.http import (
    HttpResponse,
    http_request,
    open_partial_request,
    path_of,
    with_query,
)
from tests.support.hub import HubProcess, HubSet
from tests.support.images import BuiltImage, pseudo_random, sha256_digest
from tests.support.upload import push_image

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
REPOSITORY = "crash/uploads"


def start_upload(url: str) -> str:
    """POST a new upload session and return its Location."""
    response = http_request("POST", f"{url}/v2/{REPOSITORY}/blobs/uploads/",
                            headers={"Content-Length": "0"})
    assert response.status == 202, response.body
    assert response.headers["Docker-Upload-UUID"]
    return response.headers["Location"]


def patch_chunk(url: str, location: str, data: bytes, offset: int) -> HttpResponse:
    """PATCH `data` as the chunk starting at `offset`; assert it is accepted."""
    response = http_request(
        "PATCH", with_query(url, location), body=data,
        headers={"Content-Type": "application/octet-stream",
                 "Content-Range": f"{offset}-{offset + len(data) - 1}"})
    assert response.status == 202, response.body
    assert response.headers["Range"] == f"0-{offset + len(data) - 1}"
    return response


def upload_status(url: str, location: str) -> tuple[int, str]:
    """GET the upload's status: the number of bytes the hub holds, and the next Location."""
    response = http_request("GET", with_query(url, location))
    assert response.status == 204, response.body
    assert response.headers["Docker-Upload-UUID"]
    first, last = response.headers["Range"].split("-")
    assert first == "0"
    return int(last) + 1, response.headers["Location"]


def finish_upload(url: str, location: str, digest: str) -> None:
    """PUT the upload with its digest and no body; assert the blob is created."""
    response = http_request("PUT", with_query(url, location, digest=digest),
                            headers={"Content-Length": "0"})
    assert response.status == 201, response.body
    assert response.headers["Docker-Content-Digest"] == digest


def push_whole(url: str, data: bytes) -> str:
    """Upload `data` as one PUT that closes a fresh session; return its digest."""
    digest = sha256_digest(data)
    response = http_request("PUT", with_query(url, start_upload(url), digest=digest), body=data,
                            headers={"Content-Type": "application/octet-stream"})
    assert response.status == 201, response.body
    return digest


def assert_blob_served(url: str, data: bytes) -> None:
    digest = sha256_digest(data)
    response = http_request("GET", f"{url}/v2/{REPOSITORY}/blobs/{digest}")
    assert response.status == 200, response.body
    assert response.headers["Docker-Content-Digest"] == digest
    assert response.body == data


def assert_blob_unknown(url: str, digest: str) -> None:
    head = http_request("HEAD", f"{url}/v2/{REPOSITORY}/blobs/{digest}")
    assert head.status == 404
    response = http_request("GET", f"{url}/v2/{REPOSITORY}/blobs/{digest}")
    assert response.status == 404
    assert response.error_codes() == ["BLOB_UNKNOWN"]


def test_chunked_upload_resumes_after_kill(hub: HubProcess) -> None:
    data = pseudo_random(3 * MIB + 123, b"resume after kill")
    location = start_upload(hub.url)
    location = patch_chunk(hub.url, location, data[:MIB], 0).headers["Location"]

    hub.kill()
    hub.start()

    received, location = upload_status(hub.url, location)
    assert received == MIB
    location = patch_chunk(hub.url, location, data[MIB:], MIB).headers["Location"]
    assert upload_status(hub.url, location)[0] == len(data)
    finish_upload(hub.url, location, sha256_digest(data))
    assert_blob_served(hub.url, data)


def test_kill_while_a_chunk_is_arriving(hub: HubProcess) -> None:
    committed = pseudo_random(2 * MIB, b"committed before the crash")
    committed_digest = push_whole(hub.url, committed)
    data = pseudo_random(6 * MIB, b"cut off mid-request")
    location = start_upload(hub.url)
    location = patch_chunk(hub.url, location, data[:MIB], 0).headers["Location"]

    # Send the second chunk's headers and half its body, then crash the hub while it reads.
    chunk = data[MIB:]
    sock = open_partial_request(
        "PATCH", with_query(hub.url, location),
        {"Content-Type": "application/octet-stream",
         "Content-Range": f"{MIB}-{len(data) - 1}"},
        chunk[: len(chunk) // 2], len(chunk))
    try:
        time.sleep(0.5)  # let the hub consume some of it; how much does not matter
        hub.kill()
    finally:
        sock.close()
    hub.start()

    assert_blob_served(hub.url, committed)
    assert_blob_unknown(hub.url, sha256_digest(data))
    received, location = upload_status(hub.url, location)
    # Whatever the hub kept is a prefix that contains at least the first acknowledged chunk.
    assert MIB <= received < len(data)
    location = patch_chunk(hub.url, location, data[received:], received).headers["Location"]
    assert upload_status(hub.url, location)[0] == len(data)
    finish_upload(hub.url, location, sha256_digest(data))
    assert_blob_served(hub.url, data)
    assert_blob_served(hub.url, committed)
    head = http_request("HEAD", f"{hub.url}/v2/{REPOSITORY}/blobs/{committed_digest}")
    assert head.status == 200
    assert int(head.headers["Content-Length"]) == len(committed)


def test_unfinished_upload_is_never_served(hub: HubProcess) -> None:
    data = pseudo_random(2 * MIB, b"never finished")
    digest = sha256_digest(data)
    location = start_upload(hub.url)
    # Every byte arrives, but the closing PUT never does.
    patch_chunk(hub.url, location, data, 0)
    assert_blob_unknown(hub.url, digest)

    hub.kill()
    hub.start()

    assert_blob_unknown(hub.url, digest)


def test_upload_begun_on_one_hub_finishes_on_another(hub_factory: HubSet) -> None:
    first = hub_factory.start()
    second = hub_factory.start(data_dir=first.data_dir)
    data = pseudo_random(3 * MIB + 7, b"two hub processes")
    location = start_upload(first.url)
    location = patch_chunk(first.url, location, data[: 2 * MIB], 0).headers["Location"]

    # Only the path and query travel: the second hub is another host:port.
    received, location = upload_status(second.url, path_of(location))
    assert received == 2 * MIB
    location = patch_chunk(second.url, path_of(location), data[2 * MIB:], 2 * MIB)\
        .headers["Location"]
    finish_upload(second.url, path_of(location), sha256_digest(data))

    assert_blob_served(second.url, data)
    assert_blob_served(first.url, data)


def test_manifests_and_tags_survive_a_kill(hub: HubProcess, built_image: BuiltImage) -> None:
    digest = push_image(hub.url, "crash/image", "v1", built_image)

    hub.kill()
    hub.start()

    by_tag = http_request("GET", f"{hub.url}/v2/crash/image/manifests/v1",
                          headers={"Accept": mediatypes.OCI_MANIFEST})
    assert (by_tag.status, by_tag.body) == (200, built_image.manifest)
    assert by_tag.headers["Docker-Content-Digest"] == digest
    assert http_request("GET", f"{hub.url}/v2/crash/image/tags/list").json()["tags"] == ["v1"]
    for blob_digest, data in built_image.blobs().items():
        blob = http_request("GET", f"{hub.url}/v2/crash/image/blobs/{blob_digest}")
        assert (blob.status, blob.body) == (200, data)


def test_sigterm_stops_cleanly_and_keeps_uploads(hub: HubProcess) -> None:
    data = pseudo_random(MIB, b"graceful stop")
    location = start_upload(hub.url)
    location = patch_chunk(hub.url, location, data[: MIB // 2], 0).headers["Location"]

    assert hub.stop() == 0
    hub.start()

    received, location = upload_status(hub.url, location)
    assert received == MIB // 2
    location = patch_chunk(hub.url, location, data[MIB // 2:], MIB // 2).headers["Location"]
    finish_upload(hub.url, location, sha256_digest(data))
    assert_blob_served(hub.url, data)
