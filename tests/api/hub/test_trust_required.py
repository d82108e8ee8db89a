"""Content trust required for a namespace's repositories; who may change the settings."""

from __future__ import annotations

import pytest

from registry.oci import mediatypes as mt
from tests.api.conftest import error_code
from tests.api.hub.push import push

ACCEPT = {"Accept": mt.OCI_MANIFEST}


@pytest.mark.parametrize("auth_settings", ["sqlite"], indirect=True)
async def test_namespace_setting_and_who_may_change_it(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    resp = await hub.client.put(
        "/api/v1/namespaces/alice", json={"trust_required": True}, headers=bob
    )
    assert resp.status == 403
    resp = await hub.client.put(
        "/api/v1/namespaces/alice", json={"trust_required": True}, headers=alice
    )
    assert resp.status == 204, await resp.text()
    accept = {**alice, **ACCEPT}
    refused = await hub.client.get("/v2/alice/app/manifests/v1", headers=accept)
    assert refused.status == 403 and await error_code(refused) == "DENIED"
    info = await (await hub.client.get("/api/v1/repositories/alice/app", headers=alice)).json()
    assert info["trust_required"] is True and info["trust_required_setting"] == "inherit"

    # the repository's own setting overrides its namespace's; only its owner may change it
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"trust_required": False}, headers=bob
    )
    assert resp.status in (403, 404)
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"trust_required": False}, headers=alice
    )
    assert resp.status == 200, await resp.text()
    assert (await hub.client.get("/v2/alice/app/manifests/v1", headers=accept)).status == 200
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"trust_required": None}, headers=alice
    )
    assert (await resp.json())["trust_required"] is True
    assert (await hub.client.get("/v2/alice/app/manifests/v1", headers=accept)).status == 403
