"""The verification gate: a repository requiring content trust serves only signed manifests.

Trust data is made by the real signer library (`trust.signer`) publishing to the hub's own
trust routes over HTTP; the setting goes through the hub's JSON API.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, push_blob, push_image, sha256
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.server.handlers import TRUST_SERVICE
from trust.signer import Repository

ACCEPT = {"Accept": f"{mt.OCI_MANIFEST},{mt.OCI_INDEX}"}


def passphrases(role: str) -> str:
    return "root-pass" if role == "root" else "repo-pass"


def signer(client, directory, gun: str) -> Repository:
    url = str(client.make_url("")).rstrip("/")
    return Repository(gun, HttpRemoteStore(url, gun), KeyStore(directory), passphrases)


async def sign(repo: Repository, tag: str, pushed_digest: str, length: int) -> None:
    await asyncio.to_thread(repo.sign_target, tag, pushed_digest.removeprefix("sha256:"), length)


async def require_trust(client, name: str, value: bool | None = True) -> dict:
    resp = await client.patch(f"/api/v1/repositories/{name}", json={"trust_required": value})
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def get(client, name: str, reference: str, method: str = "GET"):
    return await client.request(method, f"/v2/{name}/manifests/{reference}", headers=ACCEPT)


async def assert_refused(client, name: str, reference: str) -> str:
    for method in ("GET", "HEAD"):
        resp = await get(client, name, reference, method)
        assert resp.status == 403, (method, reference, await resp.text())
    resp = await get(client, name, reference)
    body = await resp.json()
    assert body["errors"][0]["code"] == "DENIED"
    message = body["errors"][0]["message"]
    assert message.startswith("content trust required"), message
    return message


async def test_signed_tags_are_served_and_the_rest_refused(client, tmp_path):
    signed = await push_image(client, "team/app", "v1", seed="a")
    unsigned = await push_image(client, "team/app", "v2", seed="b")
    author = signer(client, tmp_path / "keys", "127.0.0.1:5000/team/app")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", signed.digest, len(signed.payload))

    # Before the setting, everything is served.
    assert (await get(client, "team/app", "v2")).status == 200
    setting = await require_trust(client, "team/app")
    assert setting["trust_required"] is True and setting["trust_required_setting"] == "on"

    for method in ("GET", "HEAD"):
        resp = await get(client, "team/app", "v1", method)
        assert resp.status == 200, await resp.text()
        assert resp.headers["Docker-Content-Digest"] == signed.digest
    assert await (await get(client, "team/app", "v1")).read() == signed.payload
    message = await assert_refused(client, "team/app", "v2")
    assert "'v2'" in message and "team/app" in message

    # by digest: the signed one is served, the unsigned one is not
    assert (await get(client, "team/app", signed.digest)).status == 200
    await assert_refused(client, "team/app", unsigned.digest)

    # the tag moved to other content than was signed: refused
    await push_image(client, "team/app", "v1", seed="c")
    await assert_refused(client, "team/app", "v1")

    # turning the setting off serves everything again
    assert (await require_trust(client, "team/app", False))["trust_required"] is False
    assert (await get(client, "team/app", "v2")).status == 200


async def test_a_tag_signed_for_another_digest_is_refused(client, tmp_path):
    pushed = await push_image(client, "team/app", "v1")
    author = signer(client, tmp_path / "keys", "localhost:5000/team/app")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", sha256(b"something else"), 10)
    await require_trust(client, "team/app")
    await assert_refused(client, "team/app", "v1")
    await assert_refused(client, "team/app", pushed.digest)
    # signed trust data of another repository does not count
    other = signer(client, tmp_path / "other", "127.0.0.1:5000/team/other")
    await asyncio.to_thread(other.initialize)
    await sign(other, "v1", pushed.digest, len(pushed.payload))
    await assert_refused(client, "team/app", "v1")
    # a signature under any host prefix of this repository counts
    await sign(author, "v1", pushed.digest, len(pushed.payload))
    assert (await get(client, "team/app", "v1")).status == 200


async def test_children_of_a_signed_index_are_served_by_digest(client, tmp_path):
    amd64 = await push_image(client, "team/multi", None, seed="amd64")
    arm64 = await push_image(client, "team/multi", None, seed="arm64")
    stray = await push_image(client, "team/multi", None, seed="stray")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": mt.OCI_INDEX,
            "manifests": [
                {
                    "mediaType": mt.OCI_MANIFEST,
                    "digest": child.digest,
                    "size": len(child.payload),
                    "platform": {"os": "linux", "architecture": arch},
                }
                for child, arch in ((amd64, "amd64"), (arm64, "arm64"))
            ],
        }
    ).encode()
    resp = await client.put(
        "/v2/team/multi/manifests/v1", data=index, headers={"Content-Type": mt.OCI_INDEX}
    )
    assert resp.status == 201
    author = signer(client, tmp_path / "keys", "127.0.0.1:5000/team/multi")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", sha256(index), len(index))
    await require_trust(client, "team/multi")

    assert (await get(client, "team/multi", "v1")).status == 200
    assert (await get(client, "team/multi", sha256(index))).status == 200
    for child in (amd64, arm64):
        assert (await get(client, "team/multi", child.digest)).status == 200
    await assert_refused(client, "team/multi", stray.digest)
    # a client that reads no index, asking by tag, gets the signed index's amd64 child
    old = await client.get(
        "/v2/team/multi/manifests/v1",
        headers={"Accept": f"{mt.DOCKER_MANIFEST}, {mt.OCI_MANIFEST}"},
    )
    assert old.status == 200 and old.headers["Docker-Content-Digest"] == amd64.digest


async def test_expired_trust_data_is_refused(client, tmp_path):
    pushed = await push_image(client, "team/app", "v1")
    author = signer(client, tmp_path / "keys", "127.0.0.1:5000/team/app")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", pushed.digest, len(pushed.payload))
    await require_trust(client, "team/app")
    assert (await get(client, "team/app", "v1")).status == 200
    # four years on the targets role (valid three years) has expired
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=4 * 365)
    client.app[TRUST_SERVICE].clock = lambda: later
    await assert_refused(client, "team/app", "v1")
    await assert_refused(client, "team/app", pushed.digest)


async def test_repositories_without_the_setting_are_unaffected(client, tmp_path):
    await push_image(client, "team/app", "v1")
    plain = await push_image(client, "team/plain", "v1", seed="p")
    await require_trust(client, "team/app")
    assert (await get(client, "team/plain", "v1")).status == 200
    assert (await get(client, "team/plain", plain.digest)).status == 200
    info = await (await client.get("/api/v1/repositories/team/plain")).json()
    assert info["trust_required"] is False and info["trust_required_setting"] == "inherit"
    # an unsigned tag may still be pushed to a repository that requires trust
    await push_blob(client, "team/app", b"x")
    again = await push_image(client, "team/app", "v9", seed="later")
    assert again.digest
    assert await error_code(await get(client, "team/app", "v9")) == "DENIED"
