"""Malformed input is the caller's error: a 4xx in the spec's JSON format, never a 500."""

from __future__ import annotations

import pytest

from registry.oci import mediatypes as mt
from tests.api.hub.conftest import ADMIN

DEEP = b"[" * 5000 + b"]" * 5000
HUGE = str(10**20)
BAD_BOUNDARY = {"Content-Type": 'multipart/form-data; boundary="'}


async def _error(resp, status: int, code: str) -> dict:
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert body["errors"][0]["code"] == code, body
    assert set(body["errors"][0]) >= {"code", "message", "detail"}
    return body


def _multipart(filename: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="'
        + filename.encode()
        + b'"\r\n\r\n'
        + data
        + b"\r\n--b--\r\n"
    )
    return body, {"Content-Type": "multipart/form-data; boundary=b"}


async def test_deeply_nested_json_is_refused(hub):
    client = hub.client
    resp = await client.put(
        "/v2/library/app/manifests/v1",
        data=DEEP,
        headers={**ADMIN, "Content-Type": mt.OCI_MANIFEST},
    )
    await _error(resp, 400, "MANIFEST_INVALID")
    resp = await client.put("/api/v1/user/password", data=DEEP, headers=ADMIN)
    await _error(resp, 400, "INVALID_REQUEST")
    body, headers = _multipart("root", DEEP)
    resp = await client.post(
        "/v2/library/app/_trust/tuf/", data=body, headers={**ADMIN, **headers}
    )
    await _error(resp, 400, "MALFORMED_JSON")


async def test_upload_id_that_is_no_session_id_is_unknown(hub):
    for upload_id in ("%21" * 36, "..%2F" * 7 + "x", "A" * 36, "0" * 36):
        resp = await hub.client.get(
            f"/v2/library/app/blobs/uploads/{upload_id}", headers=ADMIN
        )
        await _error(resp, 404, "BLOB_UPLOAD_UNKNOWN")


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/repositories?page={HUGE}",
        f"/api/v1/repositories?page={2**62}&page_size=100",
        "/api/v1/repositories?page=%C2%B2",
        f"/api/v1/search?q=a&page={HUGE}",
        f"/v1/search?q=a&page={HUGE}",
        f"/api/v1/search?q=a&stars={HUGE}",
        "/api/v1/search?q=a&stars=%C2%B2",
        f"/api/v1/audit?before={HUGE}",
        "/api/v1/audit?before=1e20",
        "/api/v1/audit?limit=%C2%B2",
    ],
)
async def test_out_of_range_numbers_are_invalid_requests(hub, path):
    await _error(await hub.client.get(path, headers=ADMIN), 400, "INVALID_REQUEST")


async def test_out_of_range_token_id_is_invalid(hub):
    resp = await hub.client.delete(f"/api/v1/user/tokens/{HUGE}", headers=ADMIN)
    await _error(resp, 400, "INVALID_REQUEST")


async def test_catalog_n_with_non_ascii_digit_is_invalid(hub):
    resp = await hub.client.get("/v2/_catalog?n=%C2%B2", headers=ADMIN)
    await _error(resp, 400, "PAGINATION_NUMBER_INVALID")


async def test_trust_numbers_beyond_64_bits(hub):
    resp = await hub.client.get(
        f"/v2/library/app/_trust/tuf/{'9' * 30}.root.json", headers=ADMIN
    )
    await _error(resp, 404, "METADATA_NOT_FOUND")
    for query in (f"change_id={'9' * 30}", f"records=-{'9' * 30}", "change_id=%C2%B2"):
        resp = await hub.client.get(f"/v2/library/app/_trust/changefeed?{query}", headers=ADMIN)
        await _error(resp, 400, "INVALID_PARAMETERS")


async def test_multipart_part_with_control_characters_in_its_headers(hub):
    body, headers = _multipart("\x1f", b"{}")
    resp = await hub.client.post("/token", data=body, headers={**ADMIN, **headers})
    await _error(resp, 400, "INVALID_REQUEST")
    resp = await hub.client.post(
        "/v2/library/app/_trust/tuf/", data=body, headers={**ADMIN, **headers}
    )
    await _error(resp, 400, "MALFORMED_UPLOAD")


async def test_malformed_multipart_boundary(hub):
    resp = await hub.client.post("/token", data=b"--x\r\n", headers={**ADMIN, **BAD_BOUNDARY})
    await _error(resp, 400, "INVALID_REQUEST")
    resp = await hub.client.post(
        "/v2/library/app/_trust/tuf/", data=b"--x\r\n", headers={**ADMIN, **BAD_BOUNDARY}
    )
    await _error(resp, 400, "MALFORMED_UPLOAD")
