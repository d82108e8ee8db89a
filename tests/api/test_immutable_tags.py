"""Immutable tags on the open registry, over SQLite and PostgreSQL: what a client sees."""

from __future__ import annotations

import asyncio

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code, push_image


async def _add_rule(client, scope_path: str, pattern: str) -> dict:
    resp = await client.post(f"{scope_path}/immutable-tags", json={"pattern": pattern})
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def _denied_message(resp) -> str:
    assert resp.status == 403, await resp.text()
    assert await error_code(resp) == "DENIED"
    return (await resp.json())["errors"][0]["message"]


async def _tag_digest(client, name: str, tag: str) -> str:
    resp = await client.head(f"/v2/{name}/manifests/{tag}", headers={"Accept": mt.OCI_MANIFEST})
    assert resp.status == 200
    return resp.headers["Docker-Content-Digest"]


async def test_a_matching_tag_cannot_move_but_may_be_pushed_again(client):
    first = await push_image(client, "team/app", "v1", seed="one")
    rule = await _add_rule(client, "/api/v1/repositories/team/app", "v*")
    assert rule["pattern"] == "v*" and rule["scope"] == "team/app"

    # Same digest again: accepted, as Harbor does.
    again = await push_image(client, "team/app", "v1", seed="one")
    assert again.digest == first.digest

    other = await push_image(client, "team/app", None, seed="two")
    resp = await client.put(
        "/v2/team/app/manifests/v1", data=other.payload, headers={"Content-Type": mt.OCI_MANIFEST}
    )
    message = await _denied_message(resp)
    assert "'v1'" in message and "'v*'" in message
    assert await _tag_digest(client, "team/app", "v1") == first.digest

    # New matching tags are created once; non-matching tags still move freely.
    await push_image(client, "team/app", "v2", seed="two")
    await push_image(client, "team/app", "latest", seed="one")
    await push_image(client, "team/app", "latest", seed="two")
    assert await _tag_digest(client, "team/app", "latest") == other.digest

    resp = await client.delete(f"/api/v1/repositories/team/app/immutable-tags/{rule['id']}")
    assert resp.status == 204
    await push_image(client, "team/app", "v1", seed="two")
    assert await _tag_digest(client, "team/app", "v1") == other.digest


async def test_deleting_a_matching_tag_by_tag_or_by_digest_is_refused(client):
    kept = await push_image(client, "team/app", "release-1", seed="one")
    loose = await push_image(client, "team/app", "dev", seed="two")
    rule = await _add_rule(client, "/api/v1/repositories/team/app", "release-*")

    message = await _denied_message(await client.delete("/v2/team/app/manifests/release-1"))
    assert "'release-1'" in message and "'release-*'" in message
    message = await _denied_message(await client.delete(f"/v2/team/app/manifests/{kept.digest}"))
    assert "'release-1'" in message
    assert await _tag_digest(client, "team/app", "release-1") == kept.digest

    resp = await client.delete("/v2/team/app/manifests/release-9")  # held, but not there
    assert resp.status == 404 and await error_code(resp) == "MANIFEST_UNKNOWN"
    assert (await client.delete("/v2/team/app/manifests/dev")).status == 202
    assert (await client.delete(f"/v2/team/app/manifests/{loose.digest}")).status == 202

    # Nor does the repository go while it holds an immutable tag.
    message = await _denied_message(await client.delete("/api/v1/repositories/team/app"))
    assert "'release-1'" in message

    await client.delete(f"/api/v1/repositories/team/app/immutable-tags/{rule['id']}")
    assert (await client.delete("/v2/team/app/manifests/release-1")).status == 202
    assert (await client.delete("/api/v1/repositories/team/app")).status == 204


async def test_bad_patterns_and_unknown_scopes_are_refused(client):
    await push_image(client, "team/app", "v1")
    for pattern in ("", "v/1", "a" * 129, "v 1"):
        resp = await client.post(
            "/api/v1/repositories/team/app/immutable-tags", json={"pattern": pattern}
        )
        assert resp.status == 400 and await error_code(resp) == "INVALID_REQUEST", pattern
    resp = await client.post(
        "/api/v1/repositories/team/nope/immutable-tags", json={"pattern": "v*"}
    )
    assert resp.status == 404
    resp = await client.delete("/api/v1/repositories/team/app/immutable-tags/999")
    assert resp.status == 404


async def test_racing_pushes_of_a_new_held_tag_leave_one_winner(client):
    await push_image(client, "team/app", "seed")
    await _add_rule(client, "/api/v1/repositories/team/app", "v*")
    images = [await push_image(client, "team/app", None, seed=str(i)) for i in range(6)]

    async def put(tag: str, payload: bytes) -> int:
        resp = await client.put(
            f"/v2/team/app/manifests/{tag}",
            data=payload,
            headers={"Content-Type": mt.OCI_MANIFEST},
        )
        return resp.status

    for tag in ("v1", "v2", "v3"):
        statuses = await asyncio.gather(*(put(tag, image.payload) for image in images))
        assert sorted(statuses) == [201] + [403] * 5, (tag, statuses)
        winner = images[statuses.index(201)].digest
        assert await _tag_digest(client, "team/app", tag) == winner
