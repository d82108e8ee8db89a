"""Names that could read as a registry host: refused, and never mapped onto another repository.

Docker reads a first component with a dot, a colon or equal to `localhost` as a registry host.
No user or organisation may be named so, and a repository path on the registry or the Hub API
is never host-stripped; only a Notary GUN loses its host. Accounts and repositories created
under the older, looser rules are seeded straight into the database (as an upgrade finds them).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from registry import keys
from registry.auth import credentials
from registry.config_check import check_settings
from registry.db import account_queries
from registry.db.tables import profiles, repositories
from tests.api.conftest import sha256
from tests.api.hub.conftest import ADMIN, PASSWORD, basic, bearer
from tests.api.hub.push import pull_status, push


async def _legacy_repository(hub, name: str, owner: dict[str, str], placeholder: str) -> None:
    """A private repository `name`, as pushed before the naming rules (pushed as `placeholder`
    by its owner, then renamed in the database)."""
    assert await push(hub.client, placeholder, "v1", owner, seed=name) == 201
    engine = hub.client.app[keys.ENGINE]
    async with engine.begin() as conn:
        await conn.execute(
            update(repositories).where(repositories.c.name == placeholder).values(name=name)
        )


async def _legacy_user(hub, name: str) -> None:
    """An account created before the naming rules (the API refuses such names now)."""
    password_hash = credentials.hash_password(PASSWORD)
    async with hub.client.app[keys.ENGINE].begin() as conn:
        assert await account_queries.insert_user(conn, name, password_hash, False)


@pytest.mark.parametrize(
    "name", ["carol.dev", "localhost", "hub:5000", "a.b", "Carol", "carol\n", "a--b", "library"]
)
async def test_host_like_or_invalid_account_names_are_refused(hub, name):
    bob = await hub.add_user("bob")
    resp = await hub.client.post(
        "/api/v1/users", json={"name": name, "password": PASSWORD}, headers=ADMIN
    )
    assert resp.status == 400, name
    resp = await hub.client.post("/api/v1/orgs", json={"name": name}, headers=bob)
    assert resp.status == 400, name
    listed = await (await hub.client.get("/api/v1/orgs", headers=bob)).json()
    assert name not in [org["name"] for org in listed["orgs"]]


async def test_valid_namespace_names_are_accepted(hub):
    bob = await hub.add_user("bob")
    for name in ["carol-dev", "al_ce", "team42"]:
        resp = await hub.client.post("/api/v1/orgs", json={"name": name}, headers=bob)
        assert resp.status == 201, (name, await resp.text())


async def test_a_host_like_name_does_not_read_another_repository(hub):
    alice = await hub.add_user("alice")
    await _legacy_repository(hub, "carol.dev/secret", alice, "alice/secret")
    # Before, `carol.dev/secret` was read as `library/secret` (public by default): an
    # anonymous token for it read carol.dev's private tags, manifests and blobs.
    body = await hub.token(None, "repository:carol.dev/secret:pull")
    token = bearer(body["token"])
    resp = await hub.client.get("/v2/carol.dev/secret/tags/list", headers=token)
    assert resp.status == 400
    error = (await resp.json())["errors"][0]
    assert error["code"] == "NAME_INVALID"
    assert "'carol.dev' is no namespace on this hub" in error["message"]
    assert await pull_status(hub.client, "carol.dev/secret", "v1", token) == 400
    config = sha256(b'{"architecture": "arm64", "os": "linux", "seed": "carol.dev/secret"}')
    resp = await hub.client.get(f"/v2/carol.dev/secret/blobs/{config}", headers=token)
    assert resp.status == 400
    # Basic credentials do no better, even an admin's.
    assert await pull_status(hub.client, "carol.dev/secret", "v1", ADMIN) == 400


async def test_a_token_for_a_gun_never_authorises_a_path_spelled_the_same(hub):
    alice = await hub.add_user("alice")
    await push(hub.client, "alice/app", "v1", alice)
    await _legacy_repository(hub, "hub.example/alice/app", alice, "alice/other")
    # The GUN `hub.example/alice/app` is alice/app: alice's token for it reads alice/app...
    token = await hub.bearer_for(alice, "repository:hub.example/alice/app:pull")
    assert await pull_status(hub.client, "alice/app", "v1", token) == 200
    # ...and never the repository whose path is spelled like that GUN.
    assert await pull_status(hub.client, "hub.example/alice/app", "v1", token) == 400


async def test_bob_cannot_mount_blobs_from_a_host_like_name(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await _legacy_repository(hub, "carol.dev/secret", alice, "alice/secret")
    layer = sha256(b"layer-carol.dev/secret-0" * 50)
    resp = await hub.client.post(
        f"/v2/bob/app/blobs/uploads/?mount={layer}&from=carol.dev/secret", headers=bob
    )
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "NAME_INVALID"
    assert (await hub.client.head(f"/v2/bob/app/blobs/{layer}", headers=bob)).status == 404


async def test_mount_from_a_bare_name_means_the_official_repository(hub):
    bob = await hub.add_user("bob")
    assert await push(hub.client, "library/base", "v1", ADMIN, seed="base") == 201
    layer = sha256(b"layer-base-0" * 50)
    resp = await hub.client.post(f"/v2/bob/app/blobs/uploads/?mount={layer}&from=base", headers=bob)
    assert resp.status == 201
    assert (await hub.client.head(f"/v2/bob/app/blobs/{layer}", headers=bob)).status == 200


async def test_nobody_pushes_under_a_host_like_namespace(hub):
    bob = await hub.add_user("bob")
    # Before, `carol.dev/bob/evil` was read as bob's `bob/evil`, so bob could push there.
    assert await push(hub.client, "carol.dev/bob/evil", "v1", bob) == 400
    token = await hub.bearer_for(bob, "repository:carol.dev/bob/evil:pull,push")
    assert await push(hub.client, "carol.dev/bob/evil", "v1", token) == 400
    assert await push(hub.client, "localhost/bob/evil", "v1", bob) == 400
    assert await push(hub.client, "localhost/evil", "v1", ADMIN) == 400
    admin_token = await hub.bearer_for(ADMIN, "registry:catalog:*")
    catalog = await (await hub.client.get("/v2/_catalog", headers=admin_token)).json()
    assert catalog["repositories"] == []


async def test_hub_api_never_strips_a_host_like_component(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "library/victimrepo", "v1", ADMIN) == 201
    await _legacy_repository(hub, "carol.dev/victimrepo", alice, "alice/victimrepo")
    # Before, this deleted library/victimrepo.
    resp = await hub.client.delete("/api/v1/repositories/carol.dev/victimrepo", headers=ADMIN)
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["code"] == "NAME_INVALID"
    assert (await hub.client.get("/api/v1/repositories/library/victimrepo")).status == 200
    assert (await hub.client.get("/api/v1/repositories/victimrepo")).status == 200
    resp = await hub.client.get("/api/v1/repositories/carol.dev/victimrepo", headers=ADMIN)
    assert resp.status == 400


async def test_legacy_accounts_with_host_like_names_cannot_sign_in(hub):
    await _legacy_user(hub, "carol.dev")
    await _legacy_user(hub, "localhost")
    for name in ["carol.dev", "localhost"]:
        resp = await hub.client.get(
            "/token",
            params={"service": hub.settings.auth_service, "scope": f"repository:{name}/x:push"},
            headers=basic(name, PASSWORD),
        )
        assert resp.status == 403, name
        assert "no longer valid" in (await resp.json())["errors"][0]["message"]
        resp = await hub.client.get("/api/v1/user", headers=basic(name, PASSWORD))
        assert resp.status == 403
    # A wrong password still says only that: no hint the account exists.
    resp = await hub.client.get("/api/v1/user", headers=basic("carol.dev", "wrong-password"))
    assert resp.status == 401


async def test_config_check_reports_legacy_names(hub):
    alice = await hub.add_user("alice")
    await _legacy_user(hub, "carol.dev")
    await _legacy_repository(hub, "carol.dev/secret", alice, "alice/secret")
    async with hub.client.app[keys.ENGINE].begin() as conn:
        await conn.execute(update(profiles).values(is_public=False))
    problems = [str(p) for p in await check_settings(hub.settings)]
    assert any("user 'carol.dev'" in p for p in problems), problems
    assert any("repository 'carol.dev/secret'" in p for p in problems), problems
    assert not any("alice" in p for p in problems), problems
