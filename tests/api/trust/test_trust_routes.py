"""The trust routes on a bare application: protocol details, keys, change feed, delete."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from tests.api.trust.conftest import GUN, run
from trust.client.cache import MetadataCache
from trust.client.updater import Updater, resolve
from trust.remote import HttpRemoteStore
from trust.server.handlers import ADMIN, PULL, PUSH
from trust.tuf.model import Metadata, Timestamp


async def test_sign_and_verify_through_the_routes(trust_server, tmp_path):
    author = trust_server.repository(tmp_path / "author")
    await run(author.initialize)
    await run(author.sign_target, "v1", "ab" * 32, 5)
    updater = Updater(
        GUN, HttpRemoteStore(trust_server.url, GUN), MetadataCache(tmp_path / "c", GUN)
    )
    trusted = await run(updater.refresh)
    assert resolve(trusted, "v1").sha256 == "ab" * 32
    assert trusted.timestamp.signatures[0].method == "ecdsa"


async def test_metadata_responses_and_lookups(trust_server, tmp_path):
    await run(trust_server.repository(tmp_path / "a").initialize)
    client = trust_server.client
    response = await client.get(f"/v2/{GUN}/_trust/tuf/root.json")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Cache-Control"] == (
        "public, max-age=300, s-maxage=300, must-revalidate"
    )
    assert response.headers["Last-Modified"].endswith("GMT")
    root = await response.read()
    by_version = await client.get(f"/v2/{GUN}/_trust/tuf/1.root.json")
    assert await by_version.read() == root
    assert by_version.headers["Cache-Control"] == "public, max-age=2592000, s-maxage=2592000"
    digest = hashlib.sha256(root).hexdigest()
    assert await (await client.get(f"/v2/{GUN}/_trust/tuf/root.{digest}.json")).read() == root
    sha512 = hashlib.sha512(root).hexdigest()
    assert await (await client.get(f"/v2/{GUN}/_trust/tuf/root.{sha512}.json")).read() == root
    # the current snapshot is the one the current timestamp lists
    timestamp = Metadata.from_bytes(
        await (await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.json")).read(), Timestamp
    )
    snapshot = await (await client.get(f"/v2/{GUN}/_trust/tuf/snapshot.json")).read()
    timestamp.signed.meta["snapshot"].verify(snapshot, "snapshot")

    for path in ("2.root.json", "targets/releases.json", "root." + "0" * 64 + ".json", "x.json"):
        missing = await client.get(f"/v2/{GUN}/_trust/tuf/{path}")
        assert missing.status == 404
        assert (await missing.json())["errors"][0]["code"] == "METADATA_NOT_FOUND"
    unknown_gun = await client.get("/v2/127.0.0.1:5000/none/_trust/tuf/root.json")
    assert unknown_gun.status == 404


async def test_server_keys_are_created_once_and_rotated(trust_server):
    client = trust_server.client
    first = await (await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.key")).json()
    assert first["keytype"] == "ecdsa" and first["keyval"]["private"] is None
    assert await (await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.key")).json() == first
    rotated = await (await client.post(f"/v2/{GUN}/_trust/tuf/timestamp.key")).json()
    assert rotated != first
    assert await (await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.key")).json() == rotated
    snapshot = await (await client.get(f"/v2/{GUN}/_trust/tuf/snapshot.key")).json()
    assert snapshot not in (first, rotated)
    bad = await client.get(f"/v2/{GUN}/_trust/tuf/targets.key")
    assert bad.status == 404
    # sealed at rest: the private key bytes are not stored in the clear
    stored = (await trust_server.store.get_keys(GUN, "timestamp"))[0]
    assert b"PRIVATE" not in stored.encrypted_private and len(stored.encrypted_private) > 100


async def test_scopes_asked_of_the_access_check(trust_server, tmp_path):
    await run(trust_server.repository(tmp_path / "a").initialize)
    client = trust_server.client
    await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.json")
    await client.post(f"/v2/{GUN}/_trust/tuf/snapshot.key")
    await client.get(f"/v2/{GUN}/_trust/changefeed")
    await client.get("/v2/_trust/changefeed")
    await client.delete(f"/v2/{GUN}/_trust/tuf/")
    seen = {
        (method, path.split("/_trust/")[-1], actions)
        for method, path, _, actions in trust_server.access.calls
    }
    assert ("GET", "tuf/root.json", PULL) in seen
    assert ("GET", "tuf/timestamp.key", PUSH) in seen
    assert ("POST", "tuf/", PUSH) in seen
    assert ("POST", "tuf/snapshot.key", ADMIN) in seen
    assert ("GET", "changefeed", PULL) in seen
    assert ("GET", "changefeed", ADMIN) in seen
    assert ("DELETE", "tuf/", ADMIN) in seen
    assert {gun for _, _, gun, _ in trust_server.access.calls} == {GUN, ""}


async def test_expired_timestamp_is_resigned_on_read(trust_server, tmp_path):
    await run(trust_server.repository(tmp_path / "a").initialize)
    client = trust_server.client
    before = Metadata.from_bytes(
        await (await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.json")).read()
    )
    trust_server.set_clock(dt.datetime.now(dt.UTC) + dt.timedelta(days=20))
    after = Metadata.from_bytes(
        await (await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.json")).read()
    )
    assert after.signed.version == before.signed.version + 1
    assert after.signed.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(days=30)


async def test_change_feed_and_delete(trust_server, tmp_path):
    author = trust_server.repository(tmp_path / "a")
    await run(author.initialize)
    await run(author.sign_target, "v1", "ab" * 32, 5)
    client = trust_server.client
    feed = await (await client.get(f"/v2/{GUN}/_trust/changefeed?change_id=0&records=10")).json()
    assert feed["count"] == 2
    assert [r["Version"] for r in feed["records"]] == [1, 2]
    assert set(feed["records"][0]) == {"ID", "CreatedAt", "GUN", "Version", "SHA256", "Category"}
    bad = await client.get(f"/v2/{GUN}/_trust/changefeed?records=many")
    assert bad.status == 400 and (await bad.json())["errors"][0]["code"] == "INVALID_PARAMETERS"
    assert (await client.delete(f"/v2/{GUN}/_trust/tuf/")).status == 200
    assert (await client.get(f"/v2/{GUN}/_trust/tuf/root.json")).status == 404
    everything = await (await client.get("/v2/_trust/changefeed?records=10")).json()
    assert everything["records"][-1]["Category"] == "deletion"
    assert (await client.get("/_notary_server/health")).status == 200


async def test_malformed_publishes(trust_server):
    client = trust_server.client
    not_multipart = await client.post(f"/v2/{GUN}/_trust/tuf/", data=b"{}")
    assert (await not_multipart.json())["errors"][0]["code"] == "MALFORMED_UPLOAD"
    bad_role = await trust_server.publish({"nope": b"{}"})
    body = await bad_role.json()
    assert bad_role.status == 400 and body["errors"][0]["code"] == "INVALID_ROLE"
    assert body["errors"][0]["detail"] == "nope"
    bad_json = await trust_server.publish({"root.json": b"{not json"})
    assert (await bad_json.json())["errors"][0]["code"] == "MALFORMED_JSON"
    no_root = await trust_server.publish(
        {"targets": json.dumps({"signed": {"version": 1}}).encode()}
    )
    error = (await no_root.json())["errors"][0]
    assert error["code"] == "INVALID_UPDATE" and error["detail"]["Name"] == "ErrValidation"
    assert await trust_server.state() == {}
