"""Content discovery: tag list and catalog pagination, and the referrers API."""

from __future__ import annotations

import json

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, push_blob, push_image, sha256


async def test_tag_list_is_lexical_and_paginated(client):
    pushed = await push_image(client, "p/app", "b")
    for tag in ("c", "a", "d", "e"):
        resp = await client.put(
            f"/v2/p/app/manifests/{tag}",
            data=pushed.payload,
            headers={"Content-Type": mt.OCI_MANIFEST},
        )
        assert resp.status == 201
    body = await (await client.get("/v2/p/app/tags/list")).json()
    assert body == {"name": "p/app", "tags": ["a", "b", "c", "d", "e"]}
    page = await client.get("/v2/p/app/tags/list?n=2")
    assert (await page.json())["tags"] == ["a", "b"]
    link = page.headers["Link"]
    assert link.startswith("</v2/p/app/tags/list?") and 'rel="next"' in link
    assert "last=b" in link and "n=2" in link
    nxt = await client.get(link[1 : link.index(">")])
    assert (await nxt.json())["tags"] == ["c", "d"]
    last = await client.get("/v2/p/app/tags/list?n=2&last=d")
    assert (await last.json())["tags"] == ["e"]
    assert "Link" not in last.headers
    empty = await client.get("/v2/p/app/tags/list?n=0")
    assert (await empty.json())["tags"] == []


async def test_tag_list_of_unknown_repository(client):
    resp = await client.get("/v2/nobody/here/tags/list")
    assert resp.status == 404
    assert await error_code(resp) == "NAME_UNKNOWN"


async def test_tag_list_of_repository_with_no_tags(client):
    await push_image(client, "notags/app", None)
    body = await (await client.get("/v2/notags/app/tags/list")).json()
    assert body["tags"] == []


async def test_catalog_pagination(client):
    for name in ("c/app", "a/app", "b/app"):
        await push_blob(client, name, name.encode())
    body = await (await client.get("/v2/_catalog")).json()
    assert body["repositories"] == ["a/app", "b/app", "c/app"]
    page = await client.get("/v2/_catalog?n=2")
    assert (await page.json())["repositories"] == ["a/app", "b/app"]
    assert "last=b/app" in page.headers["Link"] or "last=b%2Fapp" in page.headers["Link"]
    rest = await client.get("/v2/_catalog?n=2&last=b/app")
    assert (await rest.json())["repositories"] == ["c/app"]


async def test_bad_pagination_number(client):
    resp = await client.get("/v2/_catalog?n=-1")
    assert resp.status == 400


async def _push_artifact(client, name, subject, artifact_type, annotations=None):
    empty = b"{}"
    await push_blob(client, name, empty)
    blob = f"signature for {artifact_type}".encode()
    await push_blob(client, name, blob)
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": mt.OCI_EMPTY, "digest": sha256(empty), "size": 2},
        "layers": [
            {"mediaType": "application/octet-stream", "digest": sha256(blob), "size": len(blob)}
        ],
        "subject": {
            "mediaType": mt.OCI_MANIFEST,
            "digest": subject.digest,
            "size": len(subject.payload),
        },
    }
    if annotations:
        doc["annotations"] = annotations
    payload = json.dumps(doc).encode()
    resp = await client.put(
        f"/v2/{name}/manifests/{sha256(payload)}",
        data=payload,
        headers={"Content-Type": mt.OCI_MANIFEST},
    )
    assert resp.status == 201
    assert resp.headers["OCI-Subject"] == subject.digest
    return sha256(payload), payload


async def test_referrers_with_artifact_type_filter(client):
    subject = await push_image(client, "ref/app", "v1")
    sig, sig_payload = await _push_artifact(
        client, "ref/app", subject, "application/vnd.example.sig", {"who": "alice"}
    )
    sbom, _ = await _push_artifact(client, "ref/app", subject, "application/vnd.example.sbom")
    resp = await client.get(f"/v2/ref/app/referrers/{subject.digest}")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == mt.OCI_INDEX
    index = await resp.json()
    assert index["mediaType"] == mt.OCI_INDEX
    found = {m["digest"]: m for m in index["manifests"]}
    assert set(found) == {sig, sbom}
    assert found[sig]["artifactType"] == "application/vnd.example.sig"
    assert found[sig]["annotations"] == {"who": "alice"}
    assert found[sig]["size"] == len(sig_payload)
    filtered = await client.get(
        f"/v2/ref/app/referrers/{subject.digest}?artifactType=application/vnd.example.sbom"
    )
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in (await filtered.json())["manifests"]] == [sbom]


async def test_referrers_of_unknown_subject_is_an_empty_index(client):
    await push_image(client, "ref/app", "v1")
    resp = await client.get(f"/v2/ref/app/referrers/{sha256(b'nothing')}")
    assert resp.status == 200
    assert (await resp.json())["manifests"] == []


async def test_referrer_may_arrive_before_its_subject(client):
    class Phantom:
        digest = sha256(b"future subject")
        payload = b"x" * 10

    sig, _ = await _push_artifact(client, "early/app", Phantom, "application/vnd.example.sig")
    index = await (await client.get(f"/v2/early/app/referrers/{Phantom.digest}")).json()
    assert [m["digest"] for m in index["manifests"]] == [sig]
