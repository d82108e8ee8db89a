"""Who may set signature policies, for a repository and for a namespace."""

from __future__ import annotations

import pytest

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code
from tests.api.hub.push import push
from tests.support.signatures import new_key, public_pem

ACCEPT = {"Accept": mt.OCI_MANIFEST}


def cosign_policy() -> dict:
    return {"formats": ["cosign"], "cosign": {"keys": [public_pem(new_key()).decode()]}}


@pytest.mark.parametrize("auth_settings", ["sqlite"], indirect=True)
async def test_only_the_owner_sets_a_repository_policy(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    body = {"signature_policy": cosign_policy(), "trust_required": True}
    resp = await hub.client.patch("/api/v1/repositories/alice/app", json=body, headers=bob)
    assert resp.status in (403, 404)
    resp = await hub.client.patch("/api/v1/repositories/alice/app", json=body, headers=alice)
    assert resp.status == 200, await resp.text()
    refused = await hub.client.get("/v2/alice/app/manifests/v1", headers={**alice, **ACCEPT})
    assert refused.status == 403 and await error_code(refused) == "DENIED"
    assert "cosign: no signature found" in (await refused.json())["errors"][0]["message"]


@pytest.mark.parametrize("auth_settings", ["sqlite"], indirect=True)
async def test_namespace_policy_through_the_api(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    body = {"signature_policy": cosign_policy(), "trust_required": True}
    resp = await hub.client.put("/api/v1/namespaces/alice", json=body, headers=bob)
    assert resp.status == 403
    resp = await hub.client.put("/api/v1/namespaces/alice", json=body, headers=alice)
    assert resp.status == 204, await resp.text()
    info = await (await hub.client.get("/api/v1/repositories/alice/app", headers=alice)).json()
    assert info["signature_policy_setting"] == "namespace"
    refused = await hub.client.get("/v2/alice/app/manifests/v1", headers={**alice, **ACCEPT})
    assert refused.status == 403
    bad = await hub.client.put(
        "/api/v1/namespaces/alice", json={"signature_policy": {"formats": []}}, headers=alice
    )
    assert bad.status == 400 and await error_code(bad) == "INVALID_REQUEST"
    resp = await hub.client.put(
        "/api/v1/namespaces/alice", json={"signature_policy": None}, headers=alice
    )
    assert resp.status == 204
    info = await (await hub.client.get("/api/v1/repositories/alice/app", headers=alice)).json()
    assert info["signature_policy_setting"] == "none"
