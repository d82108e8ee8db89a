"""Hub data: descriptions, visibility, stars, pull counts, tags, deletion, search, v1 search."""

from __future__ import annotations

from aiohttp import web

from registry.app import create_app
from registry.auth.trust import check
from registry.settings import Settings
from tests.api.hub.conftest import ADMIN, bearer
from tests.api.hub.push import pull_status, push


async def test_repository_data_and_pull_counts(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    for _ in range(3):
        assert await pull_status(hub.client, "alice/app", "v1", alice) == 200
    # HEAD and failed GETs are not pulls.
    await hub.client.head("/v2/alice/app/manifests/v1", headers=alice)
    await hub.client.get("/v2/alice/app/manifests/nope", headers=alice)
    info = await (await hub.client.get("/api/v1/repositories/alice/app", headers=alice)).json()
    assert info["pull_count"] == 3
    assert info["is_public"] is False and info["is_official"] is False
    assert info["last_pushed"] is not None and info["namespace"] == "alice"
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"description": "the app"}, headers=alice
    )
    assert (await resp.json())["description"] == "the app"
    # The README is its own field, shown with one repository and left out of listings.
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app",
        json={"full_description": "# App\n\nUse it."},
        headers=alice,
    )
    shown = await resp.json()
    assert (shown["description"], shown["full_description"]) == ("the app", "# App\n\nUse it.")
    mine = await (
        await hub.client.get("/api/v1/repositories?namespace=alice", headers=alice)
    ).json()
    assert all("full_description" not in repo for repo in mine["results"]), mine
    for body, field in (
        ({"description": "d" * 101}, "description"),
        ({"full_description": "r" * 25_001}, "full_description"),
    ):
        resp = await hub.client.patch("/api/v1/repositories/alice/app", json=body, headers=alice)
        assert resp.status == 400
        error = (await resp.json())["errors"][0]
        assert error["code"] == "INVALID_REQUEST" and field in error["message"], error
    # Private: hidden from others, as if it did not exist.
    bob = await hub.add_user("bob")
    assert (await hub.client.get("/api/v1/repositories/alice/app", headers=bob)).status == 404
    assert (await hub.client.get("/api/v1/repositories/alice/app")).status == 404


async def test_pull_counts_survive_a_restart(aiohttp_client, auth_settings):
    from tests.api.hub.conftest import Hub

    hub = Hub(await aiohttp_client(create_app(auth_settings)), auth_settings)
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 200
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 200
    await hub.client.close()  # stops the app: buffered counts are flushed
    again = Hub(await aiohttp_client(create_app(auth_settings)), auth_settings)
    assert await pull_status(again.client, "alice/app", "v1", alice) == 200
    info = await (await again.client.get("/api/v1/repositories/alice/app", headers=alice)).json()
    assert info["pull_count"] == 3


async def test_tags_with_size_digest_architecture(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    body = await (await hub.client.get("/api/v1/repositories/alice/app/tags", headers=alice)).json()
    [tag] = body["tags"]
    assert tag["name"] == "v1"
    assert tag["digest"].startswith("sha256:")
    assert tag["architecture"] == "arm64" and tag["architectures"] == ["linux/arm64"]
    assert tag["size"] > 0 and tag["pushed"] and tag["last_pulled"] is None
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 200
    body = await (await hub.client.get("/api/v1/repositories/alice/app/tags", headers=alice)).json()
    assert body["tags"][0]["last_pulled"].endswith("Z")


async def test_stars_and_visibility_changes(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    assert (await hub.client.put("/api/v1/repositories/alice/app/star", headers=bob)).status == 404
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"is_public": True}, headers=bob
    )
    assert resp.status == 404
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"is_public": True}, headers=alice
    )
    assert resp.status == 200
    for who in (alice, bob, bob):
        assert (
            await hub.client.put("/api/v1/repositories/alice/app/star", headers=who)
        ).status == 204
    info = await (await hub.client.get("/api/v1/repositories/alice/app")).json()
    assert info["star_count"] == 2
    assert (
        await hub.client.delete("/api/v1/repositories/alice/app/star", headers=bob)
    ).status == 204
    info = await (await hub.client.get("/api/v1/repositories/alice/app")).json()
    assert info["star_count"] == 1
    assert (await hub.client.put("/api/v1/repositories/alice/app/star")).status == 401
    # Public now, but only its owner may change it.
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"description": "x"}, headers=bob
    )
    assert resp.status == 403


async def test_delete_repository(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    assert (await hub.client.delete("/api/v1/repositories/alice/app", headers=alice)).status == 204
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 404
    assert (await hub.client.get("/api/v1/repositories/alice/app", headers=alice)).status == 404
    assert (await hub.client.delete("/api/v1/repositories/alice/app", headers=alice)).status == 404


async def _catalogue(hub):
    """library/redis (official, 1 star), alice/redis-tools (public, 2 stars), alice/web
    (public, description mentions redis), alice/secret-redis (private)."""
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await hub.client.put("/api/v1/namespaces/alice", json={"default_public": True}, headers=alice)
    assert await push(hub.client, "redis", "7", ADMIN) == 201
    for name in ("alice/redis-tools", "alice/web", "alice/secret-redis"):
        assert await push(hub.client, name, "1", alice) == 201
    await hub.client.patch(
        "/api/v1/repositories/alice/web", json={"description": "uses Redis"}, headers=alice
    )
    await hub.client.patch(
        "/api/v1/repositories/alice/secret-redis", json={"is_public": False}, headers=alice
    )
    for who in (alice, bob):
        await hub.client.put("/api/v1/repositories/alice/redis-tools/star", headers=who)
    await hub.client.put("/api/v1/repositories/redis/star", headers=bob)
    return alice, bob


async def test_search_ranks_and_paginates(hub):
    alice, bob = await _catalogue(hub)
    body = await (await hub.client.get("/api/v1/search?q=redis", headers=bob)).json()
    assert [r["name"] for r in body["results"]] == [
        "library/redis",
        "alice/redis-tools",
        "alice/web",
    ]
    assert body["count"] == 3
    body = await (await hub.client.get("/api/v1/search?q=redis", headers=alice)).json()
    assert body["count"] == 4 and "alice/secret-redis" in [r["name"] for r in body["results"]]
    page2 = await (await hub.client.get("/api/v1/search?q=redis&page=2&page_size=2")).json()
    assert [r["name"] for r in page2["results"]] == ["alice/web"]
    stars = await (await hub.client.get("/api/v1/search?q=redis&stars=2")).json()
    assert [r["name"] for r in stars["results"]] == ["alice/redis-tools"]
    official = await (await hub.client.get("/api/v1/search?q=redis&is_official=true")).json()
    assert [r["name"] for r in official["results"]] == ["library/redis"]
    listing = await (await hub.client.get("/api/v1/repositories?namespace=alice")).json()
    assert [r["name"] for r in listing["results"]] == ["alice/redis-tools", "alice/web"]


async def test_v1_search_in_dockers_format(hub):
    await _catalogue(hub)
    body = await (await hub.client.get("/v1/search?q=redis&n=2")).json()
    assert body["num_results"] == 3 and body["query"] == "redis"
    assert body["page_size"] == 2 and body["num_pages"] == 2
    assert body["results"][0] == {
        "name": "redis",
        "description": "",
        "star_count": 1,
        "pull_count": 0,
        "is_official": True,
        "is_automated": False,
        "is_trusted": False,
    }
    assert body["results"][1]["name"] == "alice/redis-tools"
    assert body["results"][1]["star_count"] == 2
    page2 = await (await hub.client.get("/v1/search?q=redis&n=2&page=2")).json()
    assert [r["name"] for r in page2["results"]] == ["alice/web"]
    assert (await hub.client.get("/v1/_ping")).status == 200


async def _trust_app(aiohttp_client, settings):
    async def probe(request: web.Request) -> web.Response:
        actions = set(request.query.get("actions", "pull").split(","))
        await check(request, request.match_info["gun"], actions)
        return web.json_response({"ok": True})

    app = create_app(settings)
    app.router.add_get("/trust-probe/{gun:.+}", probe)
    return await aiohttp_client(app)


async def test_trust_access_check(aiohttp_client, auth_settings):
    from tests.api.hub.conftest import Hub

    client = await _trust_app(aiohttp_client, auth_settings)
    hub = Hub(client, auth_settings)
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    gun = f"127.0.0.1:{client.port}/alice/app"
    resp = await client.get(f"/trust-probe/{gun}?actions=pull,push")
    assert resp.status == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert f'scope="repository:{gun}:pull,push"' in challenge
    # A token for the GUN scope, as the Notary client asks for it.
    token = await hub.bearer_for(alice, f"repository:{gun}:pull,push,*")
    assert (await client.get(f"/trust-probe/{gun}?actions=pull,push", headers=token)).status == 200
    assert (await client.get(f"/trust-probe/{gun}?actions=*", headers=token)).status == 200
    assert (await client.get(f"/trust-probe/{gun}?actions=pull", headers=alice)).status == 200
    resp = await client.get(f"/trust-probe/{gun}?actions=pull,push", headers=bob)
    assert resp.status == 403
    token = await hub.bearer_for(bob, f"repository:{gun}:pull,push")
    resp = await client.get(f"/trust-probe/{gun}?actions=pull", headers=token)
    assert resp.status == 401
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    # A granted `*` covers every action (Distribution's rule): notary rotates a key with a
    # `*` token and reads on with it.
    token = await hub.bearer_for(alice, f"repository:{gun}:*")
    resp = await client.get(f"/trust-probe/{gun}?actions=pull,push", headers=token)
    assert resp.status == 200
    token = await hub.bearer_for(bob, f"repository:{gun}:*")
    resp = await client.get(f"/trust-probe/{gun}?actions=pull", headers=token)
    assert resp.status == 401
    assert (
        f'scope="repository:{gun}:pull",error="insufficient_scope"'
        in resp.headers["WWW-Authenticate"]
    )
    # A token for the registry name serves the GUN too (the host part is dropped).
    token = await hub.bearer_for(alice, "repository:alice/app:pull")
    assert (await client.get(f"/trust-probe/{gun}?actions=pull", headers=token)).status == 200
    # An official image's GUN maps to library/.
    token = await hub.bearer_for(ADMIN, f"repository:127.0.0.1:{client.port}/busybox:*")
    resp = await client.get(
        f"/trust-probe/127.0.0.1:{client.port}/busybox?actions=*", headers=token
    )
    assert resp.status == 200


async def test_trust_access_check_is_open_without_auth(aiohttp_client, tmp_path):
    settings = Settings(data_dir=tmp_path / "open", auth_enabled=False).resolve()
    client = await _trust_app(aiohttp_client, settings)
    assert (await client.get("/trust-probe/127.0.0.1:5000/a/b?actions=*")).status == 200


def test_auth_is_on_by_default_and_off_with_berth_auth_none(tmp_path):
    assert Settings.from_env({"BERTH_DATA": str(tmp_path)}).auth_enabled is True
    assert (
        Settings.from_env({"BERTH_DATA": str(tmp_path), "BERTH_AUTH": "none"}).auth_enabled is False
    )
    settings = Settings.from_env({"BERTH_DATA": str(tmp_path), "BERTH_ADMIN_PASSWORD": "s3cret-pw"})
    assert settings.admin_password == "s3cret-pw" and "s3cret-pw" not in repr(settings)


async def test_bearer_token_unused_when_open(aiohttp_client, tmp_path):
    settings = Settings(data_dir=tmp_path / "open", auth_enabled=False).resolve()
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/v2/")).status == 200
    assert await push(client, "anyone/app", "v1", {}) == 201
    body = await (await client.get("/v1/search?q=app")).json()
    assert [r["name"] for r in body["results"]] == ["anyone/app"]
    assert (await client.get("/v2/anyone/app/tags/list", headers=bearer("junk"))).status == 200
