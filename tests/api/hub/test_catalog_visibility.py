"""`_catalog` lists exactly what each caller may see, in complete, ordered pages.

The visibility filter runs in the catalog's query; these tests pin what it shows for every kind
of caller (anonymous, namespace owner, team member with a repository grant, stranger, admin),
with repositories that have no manifest yet (their namespace's default decides), and at every
page size, following the `Link` headers.
"""

from __future__ import annotations

import re

from tests.api.conftest import sha256
from tests.api.hub.conftest import ADMIN
from tests.api.hub.push import push

EVERY = [
    "acme/closed",
    "acme/nomanifest",
    "acme/open",
    "al_ce/hidden",
    "alice/nomanifest",
    "alice/p1",
    "alice/p2",
    "alice/p3",
    "alice/pub",
    "bob/app",
    "library/base",
    "library/busybox",
]
PUBLIC = ["acme/nomanifest", "acme/open", "alice/pub", "library/base", "library/busybox"]


async def _hub_with_every_kind_of_repository(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    carol = await hub.add_user("carol")
    for name in ("alice/p1", "alice/p2", "alice/p3", "alice/pub"):
        assert await push(hub.client, name, "v1", alice, seed=name) == 201
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/pub", json={"is_public": True}, headers=alice
    )
    assert resp.status == 200
    assert await push(hub.client, "bob/app", "v1", bob) == 201
    assert await push(hub.client, "library/busybox", "v1", ADMIN) == 201
    # acme is public by default; carol's team may read acme/closed, which is private.
    assert (await hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=bob)).status == 201
    resp = await hub.client.put(
        "/api/v1/namespaces/acme", json={"default_public": True}, headers=bob
    )
    assert resp.status == 204
    assert await push(hub.client, "acme/open", "v1", bob) == 201
    assert await push(hub.client, "acme/closed", "v1", bob) == 201
    resp = await hub.client.patch(
        "/api/v1/repositories/acme/closed", json={"is_public": False}, headers=bob
    )
    assert resp.status == 200
    assert (await hub.client.put("/api/v1/orgs/acme/teams/devs", headers=bob)).status == 201
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/members/carol", headers=bob)
    assert resp.status == 204
    grant = {"role": "read", "repository": "closed"}
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/grants", json=grant, headers=bob)
    assert resp.status == 204
    # `al_ce` is a LIKE pattern that would match `alice/...`; bob owns it.
    assert (
        await hub.client.post("/api/v1/orgs", json={"name": "al_ce"}, headers=bob)
    ).status == 201
    assert await push(hub.client, "al_ce/hidden", "v1", bob) == 201
    # Repositories holding blobs but no manifest yet: their namespace's default decides.
    for name, who in (
        ("alice/nomanifest", alice),
        ("acme/nomanifest", bob),
        ("library/base", ADMIN),
    ):
        blob = name.encode()
        resp = await hub.client.post(
            f"/v2/{name}/blobs/uploads/?digest={sha256(blob)}", data=blob, headers=who
        )
        assert resp.status == 201
    return {"alice": alice, "bob": bob, "carol": carol}


async def _pages(hub, headers, n: int | None) -> list[list[str]]:
    """Every page of the catalog at page size `n`, following `Link` headers."""
    path = "/v2/_catalog" if n is None else f"/v2/_catalog?n={n}"
    pages = []
    while path:
        resp = await hub.client.get(path, headers=headers)
        assert resp.status == 200, await resp.text()
        pages.append((await resp.json())["repositories"])
        link = resp.headers.get("Link")
        path = re.match(r"<([^>]+)>", link).group(1) if link else ""
    return pages


async def test_each_caller_sees_exactly_what_it_may(hub):
    users = await _hub_with_every_kind_of_repository(hub)
    expected = {
        "anonymous": PUBLIC,
        "alice": sorted({*PUBLIC, "alice/nomanifest", "alice/p1", "alice/p2", "alice/p3"}),
        "bob": sorted({*PUBLIC, "acme/closed", "al_ce/hidden", "bob/app"}),
        "carol": sorted({*PUBLIC, "acme/closed"}),
        "admin": EVERY,
    }
    credentials = {**users, "anonymous": None, "admin": ADMIN}
    for who, wanted in expected.items():
        token = await hub.bearer_for(credentials[who], "registry:catalog:*")
        assert await _pages(hub, token, None) == [wanted], who
        for n in (1, 2, 3, 5, len(wanted), 100):
            pages = await _pages(hub, token, n)
            assert [name for page in pages for name in page] == wanted, (who, n)
            assert all(len(page) == n for page in pages[:-1]), (who, n)
            assert len(pages[-1]) <= n


async def test_last_skips_hidden_and_visible_names_alike(hub):
    users = await _hub_with_every_kind_of_repository(hub)
    token = await hub.bearer_for(users["carol"], "registry:catalog:*")
    resp = await hub.client.get("/v2/_catalog?n=2&last=acme/open", headers=token)
    assert (await resp.json())["repositories"] == ["alice/pub", "library/base"]
    resp = await hub.client.get("/v2/_catalog?n=2&last=alice/a", headers=token)
    assert (await resp.json())["repositories"] == ["alice/pub", "library/base"]
    resp = await hub.client.get("/v2/_catalog?n=0", headers=token)
    assert (await resp.json())["repositories"] == []
