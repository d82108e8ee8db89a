"""Credential kinds: a registry bearer token is never an account credential, tokens die with
their account, and an access token's scopes bound what it may do to the account."""

from __future__ import annotations

import time

import jwt

from registry import keys
from tests.api.conftest import error_code
from tests.api.hub.conftest import ADMIN, PASSWORD, basic, bearer
from tests.api.hub.push import pull_status, push


async def test_a_token_without_scope_cannot_manage_the_account(hub):
    alice = await hub.add_user("alice")
    token = await hub.token(alice)  # GET /token, no scope: "access": []
    assert jwt.decode(token["token"], options={"verify_signature": False})["access"] == []
    unscoped = bearer(token["token"])
    resp = await hub.client.post(
        "/api/v1/user/tokens", json={"name": "x", "scopes": ["admin"]}, headers=unscoped
    )
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic ")
    resp = await hub.client.put(
        "/api/v1/user/password",
        json={"password": "taken-over-1", "current_password": PASSWORD},
        headers=unscoped,
    )
    assert resp.status == 401
    for path in ("/api/v1/user", "/api/v1/user/tokens", "/api/v1/orgs"):
        assert (await hub.client.get(path, headers=unscoped)).status == 401
    assert (
        await hub.client.post("/api/v1/orgs", json={"name": "x"}, headers=unscoped)
    ).status == 401
    # The password still works, and nothing was created.
    listed = await (await hub.client.get("/api/v1/user/tokens", headers=alice)).json()
    assert listed["tokens"] == []


async def test_an_admins_repository_token_is_not_an_admin(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    token = await hub.bearer_for(ADMIN, "repository:library/app:pull")
    resp = await hub.client.post(
        "/api/v1/users",
        json={"name": "mallory", "password": PASSWORD, "is_admin": True},
        headers=token,
    )
    assert resp.status == 401
    assert (await hub.client.get("/api/v1/users", headers=token)).status == 401
    assert (await hub.client.get("/api/v1/audit", headers=token)).status == 401
    # Its claims do not cover alice/app: the Hub API hides it, as from anyone else.
    for method in ("GET", "PATCH", "DELETE"):
        resp = await hub.client.request(
            method, "/api/v1/repositories/alice/app", json={"description": "x"}, headers=token
        )
        assert resp.status == 404, method
    assert (await hub.client.get("/api/v1/repositories/alice/app", headers=alice)).status == 200


async def test_a_bearer_token_acts_only_within_its_claims_on_the_hub_api(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    pull_only = await hub.bearer_for(alice, "repository:alice/app:pull")
    assert (await hub.client.get("/api/v1/repositories/alice/app", headers=pull_only)).status == 200
    assert (
        await hub.client.get("/api/v1/repositories/alice/app/tags", headers=pull_only)
    ).status == 200
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"is_public": True}, headers=pull_only
    )
    assert resp.status == 403
    resp = await hub.client.delete("/api/v1/repositories/alice/app", headers=pull_only)
    assert resp.status == 403
    # Stars are the account's: a password or an access token with `write`, never a bearer.
    resp = await hub.client.put("/api/v1/repositories/alice/app/star", headers=pull_only)
    assert resp.status == 401
    # Listings: a bearer token sees public data, and its account's only with a catalog claim.
    listed = await (await hub.client.get("/api/v1/repositories", headers=pull_only)).json()
    assert listed["results"] == []
    searcher = await hub.bearer_for(alice, "registry:catalog:search")
    found = await (await hub.client.get("/v1/search?q=app", headers=searcher)).json()
    assert [r["name"] for r in found["results"]] == ["alice/app"]
    found = await (await hub.client.get("/v1/search?q=app", headers=pull_only)).json()
    assert found["results"] == []


async def test_changing_ones_password_needs_the_current_one(hub):
    alice = await hub.add_user("alice")
    resp = await hub.client.put(
        "/api/v1/user/password", json={"password": "new-password-1"}, headers=alice
    )
    assert resp.status == 400
    resp = await hub.client.put(
        "/api/v1/user/password",
        json={"password": "new-password-1", "current_password": "a-guess"},
        headers=alice,
    )
    assert resp.status == 403
    assert (await hub.client.get("/token", headers=alice)).status == 200
    admin_pat = basic("alice", (await hub.create_token(alice, "admin"))["token"])
    resp = await hub.client.put(
        "/api/v1/user/password",
        json={"password": "new-password-1", "current_password": PASSWORD},
        headers=admin_pat,
    )
    assert resp.status == 204
    assert (await hub.client.get("/token", headers=basic("alice", "new-password-1"))).status == 200


async def test_tokens_of_a_deleted_user_do_not_serve_a_new_user_of_that_name(hub):
    dave = await hub.add_user("dave", admin=True)
    old = await hub.token(dave, "repository:dave/app:pull,push", offline=True)
    old_token = bearer(old["token"])
    assert await push(hub.client, "dave/app", "v1", old_token) == 201
    assert (await hub.client.delete("/api/v1/users/dave", headers=ADMIN)).status == 204
    new_dave = await hub.add_user("dave")
    # The old token (and its refresh token) names the old account: refused everywhere.
    resp = await hub.client.get("/v2/dave/app/tags/list", headers=old_token)
    assert resp.status == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert await push(hub.client, "dave/app", "v2", old_token) == 401
    assert (await hub.client.get("/api/v1/repositories/dave/app", headers=old_token)).status == 401
    resp = await hub.client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": old["refresh_token"]}
    )
    assert resp.status == 401
    # The new dave's own credentials work.
    assert await pull_status(hub.client, "dave/app", "v1", new_dave) == 200


async def test_malformed_account_claims_are_invalid_tokens(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    good = (await hub.token(alice, "repository:alice/app:pull"))["token"]
    claims = jwt.decode(good, options={"verify_signature": False})
    key = hub.client.app[keys.TOKEN_ISSUER].key
    now = int(time.time())
    for change in ({"pat": "1"}, {"pat": 1.5}, {"uid": "1"}, {"uid": True}, {"ust": None}):
        forged = jwt.encode(
            {**claims, **change, "iat": now, "exp": now + 60},
            key.private_key,
            "ES256",
            headers={"kid": key.kid},
        )
        resp = await hub.client.get("/v2/alice/app/tags/list", headers=bearer(forged))
        assert resp.status == 401, change
        assert await error_code(resp) == "UNAUTHORIZED"


async def test_a_read_only_access_token_neither_revokes_tokens_nor_stars(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    ci = await hub.create_token(alice, "write")
    reader = basic("alice", (await hub.create_token(alice, "read"))["token"])
    resp = await hub.client.delete(f"/api/v1/user/tokens/{ci['id']}", headers=reader)
    assert resp.status == 403
    assert await pull_status(hub.client, "alice/app", "v1", basic("alice", ci["token"])) == 200
    assert (
        await hub.client.put("/api/v1/repositories/alice/app/star", headers=reader)
    ).status == 403
    info = await (await hub.client.get("/api/v1/repositories/alice/app", headers=reader)).json()
    assert info["star_count"] == 0
    # A `write` token stars; only an `admin` token (or the password) revokes.
    writer = basic("alice", ci["token"])
    assert (
        await hub.client.put("/api/v1/repositories/alice/app/star", headers=writer)
    ).status == 204
    resp = await hub.client.delete(f"/api/v1/user/tokens/{ci['id']}", headers=writer)
    assert resp.status == 403
    assert (await hub.client.delete(f"/api/v1/user/tokens/{ci['id']}", headers=alice)).status == 204


async def test_admin_password_still_administers(hub):
    resp = await hub.client.post(
        "/api/v1/users", json={"name": "erin", "password": PASSWORD}, headers=ADMIN
    )
    assert resp.status == 201
    token = basic("admin", (await hub.create_token(ADMIN, "admin"))["token"])
    assert (await hub.client.get("/api/v1/users", headers=token)).status == 200
    reader = basic("admin", (await hub.create_token(ADMIN, "read"))["token"])
    assert (await hub.client.get("/api/v1/users", headers=reader)).status == 403
