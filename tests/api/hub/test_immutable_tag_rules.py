"""Who may set immutability rules, and that they hold for everyone, hub admins included."""

from __future__ import annotations

from tests.api.conftest import error_code
from tests.api.hub.conftest import ADMIN
from tests.api.hub.push import push

RULES = "/api/v1/repositories/alice/app/immutable-tags"
NAMESPACE_RULES = "/api/v1/namespaces/alice/immutable-tags"


async def test_only_the_owner_sets_a_repository_rule(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    resp = await hub.client.post(RULES, json={"pattern": "v*"}, headers=bob)
    assert resp.status in (403, 404)
    resp = await hub.client.post(RULES, json={"pattern": "v*"}, headers=alice)
    assert resp.status == 201, await resp.text()
    rule = await resp.json()
    assert rule["created_by"] == "alice"

    assert await push(hub.client, "alice/app", "v1", alice, seed="b") == 403
    assert await push(hub.client, "alice/app", "v1", ADMIN, seed="b") == 403
    resp = await hub.client.delete("/v2/alice/app/manifests/v1", headers=ADMIN)
    assert resp.status == 403 and await error_code(resp) == "DENIED"
    assert "immutable" in (await resp.json())["errors"][0]["message"]

    resp = await hub.client.delete(f"{RULES}/{rule['id']}", headers=bob)
    assert resp.status in (403, 404)
    resp = await hub.client.delete(f"{RULES}/{rule['id']}", headers=alice)
    assert resp.status == 204
    assert await push(hub.client, "alice/app", "v1", alice, seed="b") == 201


async def test_namespace_rules_are_set_by_its_managers_and_hold_its_repositories(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    assert await push(hub.client, "alice/app", "stable", alice) == 201
    assert await push(hub.client, "alice/db", "stable", alice) == 201
    resp = await hub.client.post(NAMESPACE_RULES, json={"pattern": "stable"}, headers=bob)
    assert resp.status == 403
    resp = await hub.client.post(NAMESPACE_RULES, json={"pattern": "stable"}, headers=alice)
    assert resp.status == 201, await resp.text()
    rule = await resp.json()
    assert rule["scope"] == "alice"

    listed = await (await hub.client.get(RULES, headers=alice)).json()
    assert [(r["scope"], r["pattern"]) for r in listed["rules"]] == [("alice", "stable")]
    listed = await (await hub.client.get(NAMESPACE_RULES, headers=alice)).json()
    assert [r["id"] for r in listed["rules"]] == [rule["id"]]

    for name in ("alice/app", "alice/db"):
        assert await push(hub.client, name, "stable", ADMIN, seed="b") == 403
        resp = await hub.client.delete(f"/v2/{name}/manifests/stable", headers=ADMIN)
        assert resp.status == 403 and await error_code(resp) == "DENIED"
    assert await push(hub.client, "alice/app", "other", alice, seed="b") == 201

    resp = await hub.client.delete(f"{NAMESPACE_RULES}/{rule['id']}", headers=alice)
    assert resp.status == 204
    resp = await hub.client.delete("/v2/alice/db/manifests/stable", headers=alice)
    assert resp.status == 202
