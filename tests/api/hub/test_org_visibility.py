"""What reading an organization shows: its name to anyone, teams and members to its members,
grants (which name private repositories) to its owners and admins only."""

from __future__ import annotations

from tests.api.hub.conftest import ADMIN, basic
from tests.api.hub.push import push

PROFILE = {"name": "acme"}
TEAMS = {
    "name": "acme",
    "default_public": False,
    "teams": [
        {"name": "devs", "members": ["bob"]},
        {"name": "owners", "members": ["alice"]},
    ],
}
FULL = {
    "name": "acme",
    "default_public": False,
    "teams": [
        {
            "name": "devs",
            "members": ["bob"],
            "grants": [{"repository": "acme/secret-app", "role": "write"}],
        },
        {"name": "owners", "members": ["alice"], "grants": [{"repository": None, "role": "owner"}]},
    ],
}


async def _acme(hub):
    """acme: alice owns it, bob is in `devs` with write on the private `acme/secret-app`."""
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    carol = await hub.add_user("carol")
    assert (
        await hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=alice)
    ).status == 201
    assert (await hub.client.put("/api/v1/orgs/acme/teams/devs", headers=alice)).status == 201
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/members/bob", headers=alice)
    assert resp.status == 204
    grant = {"role": "write", "repository": "secret-app"}
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/grants", json=grant, headers=alice)
    assert resp.status == 204
    assert await push(hub.client, "acme/secret-app", "v1", alice) == 201
    return alice, bob, carol


async def _read(hub, headers) -> dict:
    resp = await hub.client.get("/api/v1/orgs/acme", headers=headers)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    if "teams" in body:
        body["teams"] = sorted(body["teams"], key=lambda team: team["name"])
    return body


async def test_each_caller_sees_what_its_place_allows(hub):
    alice, bob, carol = await _acme(hub)
    assert await _read(hub, {}) == PROFILE
    assert await _read(hub, carol) == PROFILE
    assert await _read(hub, bob) == TEAMS
    assert await _read(hub, alice) == FULL
    assert await _read(hub, ADMIN) == FULL


async def test_an_owner_reading_with_a_read_token_sees_no_grants(hub):
    alice, _, _ = await _acme(hub)
    token = await hub.create_token(alice, "read")
    assert await _read(hub, basic("alice", token["token"])) == TEAMS


async def test_an_unknown_organization_is_not_found(hub):
    await _acme(hub)
    resp = await hub.client.get("/api/v1/orgs/nope")
    assert resp.status == 404


async def test_a_registry_bearer_token_sees_only_the_profile(hub):
    alice, _, _ = await _acme(hub)
    # A token for alice's pulls is no account credential: it reads what anyone reads.
    token = await hub.bearer_for(alice, "repository:acme/secret-app:pull")
    assert await _read(hub, token) == PROFILE
