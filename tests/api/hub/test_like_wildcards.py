"""`_` and `%` reach SQL `LIKE` patterns only as characters, never as wildcards.

bob owns an organization `al_ce`: as a LIKE pattern, `al_ce/%` would also match `alice/...`,
and alice's private repositories would show in bob's listings and searches.
"""

from __future__ import annotations

from tests.api.hub.conftest import ADMIN
from tests.api.hub.push import push


async def _alice_private_and_bobs_org(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    assert await push(hub.client, "alice/secret", "v1", alice) == 201
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/secret", json={"description": "secret plans"}, headers=alice
    )
    assert resp.status == 200
    resp = await hub.client.post("/api/v1/orgs", json={"name": "al_ce"}, headers=bob)
    assert resp.status == 201
    assert await push(hub.client, "al_ce/tool", "v1", bob) == 201
    return alice, bob


async def _names(hub, path: str, headers) -> list[str]:
    resp = await hub.client.get(path, headers=headers)
    assert resp.status == 200, await resp.text()
    return [r["name"] for r in (await resp.json())["results"]]


async def test_an_underscore_in_a_namespace_shows_no_other_namespace(hub):
    alice, bob = await _alice_private_and_bobs_org(hub)
    assert await _names(hub, "/api/v1/repositories", bob) == ["al_ce/tool"]
    assert await _names(hub, "/api/v1/search?q=secret", bob) == []
    assert await _names(hub, "/api/v1/search?q=s", bob) == []
    assert await _names(hub, "/v1/search?q=secret", bob) == []
    assert await _names(hub, "/api/v1/repositories?namespace=al_ce", bob) == ["al_ce/tool"]
    # Their owners and admins still see both.
    assert await _names(hub, "/api/v1/repositories", alice) == ["alice/secret"]
    assert await _names(hub, "/api/v1/repositories", ADMIN) == ["al_ce/tool", "alice/secret"]


async def test_wildcards_in_search_terms_match_themselves(hub):
    await _alice_private_and_bobs_org(hub)
    assert await _names(hub, "/api/v1/search?q=%25", ADMIN) == []
    assert await _names(hub, "/api/v1/search?q=a_c", ADMIN) == []
    assert await _names(hub, "/api/v1/search?q=l_c", ADMIN) == ["al_ce/tool"]
    assert await _names(hub, "/api/v1/repositories?namespace=a%25", ADMIN) == []
    assert await _names(hub, "/api/v1/repositories?namespace=al_c", ADMIN) == []
