"""Docker token authentication: challenges, the token endpoint, and every way a token fails."""

from __future__ import annotations

import base64
import json
import time

import jwt

from registry import keys
from registry.auth.tokens import SigningKey, TokenIssuer, UserBinding, new_private_key_pem
from tests.api.conftest import error_code
from tests.api.hub.conftest import ADMIN, PASSWORD, basic, bearer
from tests.api.hub.push import pull_status, push


def _challenge(resp) -> str:
    return resp.headers.get("WWW-Authenticate", "")


async def _binding(hub, user: str) -> UserBinding:
    """The account binding the hub puts in `user`'s tokens."""
    claims = jwt.decode(
        (await hub.token(basic(user, PASSWORD)))["token"], options={"verify_signature": False}
    )
    return UserBinding(claims["uid"], claims["ust"])


async def test_anonymous_requests_get_a_bearer_challenge(hub):
    resp = await hub.client.get("/v2/")
    assert resp.status == 401
    realm = f"http://{hub.client.host}:{hub.client.port}/token"
    assert _challenge(resp) == f'Bearer realm="{realm}",service="berth"'
    resp = await hub.client.get("/v2/alice/app/tags/list")
    assert resp.status == 401
    assert await error_code(resp) == "UNAUTHORIZED"
    assert 'scope="repository:alice/app:pull"' in _challenge(resp)
    resp = await hub.client.post("/v2/alice/app/blobs/uploads/")
    assert 'scope="repository:alice/app:pull,push"' in _challenge(resp)


async def test_login_token_push_and_pull(hub):
    alice = await hub.add_user("alice")
    body = await hub.token(alice, "repository:alice/app:pull,push")
    assert body["access_token"] == body["token"]
    assert body["expires_in"] == 300
    header = jwt.get_unverified_header(body["token"])
    assert header["alg"] == "ES256" and header["kid"]
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["sub"] == "alice"
    assert claims["aud"] == "berth"
    assert claims["iss"] == "berth-hub"
    assert claims["exp"] - claims["iat"] == 300
    assert claims["access"] == [
        {"type": "repository", "name": "alice/app", "actions": ["pull", "push"]}
    ]
    token = bearer(body["token"])
    assert (await hub.client.get("/v2/", headers=token)).status == 200
    assert await push(hub.client, "alice/app", "v1", token) == 201
    assert await pull_status(hub.client, "alice/app", "v1", token) == 200


async def test_the_access_claim_holds_only_granted_actions(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await push(
        hub.client, "alice/app", "v1", await hub.bearer_for(alice, "repository:alice/app:pull,push")
    )
    body = await hub.token(
        bob, "repository:alice/app:pull,push", "repository:bob/x:pull,push,delete"
    )
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["access"] == [
        {"type": "repository", "name": "bob/x", "actions": ["delete", "pull", "push"]}
    ]


async def test_private_repository_refuses_anonymous_pull(hub):
    alice = await hub.add_user("alice")
    await push(
        hub.client, "alice/app", "v1", await hub.bearer_for(alice, "repository:alice/app:pull,push")
    )
    anonymous = await hub.token(None, "repository:alice/app:pull")
    claims = jwt.decode(anonymous["token"], options={"verify_signature": False})
    assert claims["sub"] == "" and claims["access"] == []
    resp = await hub.client.get("/v2/alice/app/manifests/v1", headers=bearer(anonymous["token"]))
    assert resp.status == 401
    assert 'error="insufficient_scope"' in _challenge(resp)


async def test_public_repository_pulls_anonymously(hub):
    alice = await hub.add_user("alice")
    await push(
        hub.client, "alice/app", "v1", await hub.bearer_for(alice, "repository:alice/app:pull,push")
    )
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app", json={"is_public": True}, headers=alice
    )
    assert resp.status == 200, await resp.text()
    token = await hub.bearer_for(None, "repository:alice/app:pull,push")
    assert await pull_status(hub.client, "alice/app", "v1", token) == 200
    # Pull only: an anonymous push is still refused.
    assert await push(hub.client, "alice/app", "v2", token, seed="b") == 401


async def test_other_user_is_denied_push(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await push(
        hub.client, "alice/app", "v1", await hub.bearer_for(alice, "repository:alice/app:pull,push")
    )
    token = await hub.bearer_for(bob, "repository:alice/app:pull,push")
    resp = await hub.client.post("/v2/alice/app/blobs/uploads/", headers=token)
    # As Distribution does: 401 with a challenge naming the scope (the body says DENIED).
    assert resp.status == 401
    assert await error_code(resp) == "DENIED"
    assert 'scope="repository:alice/app:pull,push",error="insufficient_scope"' in _challenge(resp)
    assert await pull_status(hub.client, "alice/app", "v1", token) == 401
    # Basic auth as bob: plainly forbidden.
    assert await pull_status(hub.client, "alice/app", "v1", bob) == 403


async def test_basic_auth_directly_on_v2(hub):
    alice = await hub.add_user("alice")
    assert (await hub.client.get("/v2/", headers=alice)).status == 200
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 200
    resp = await hub.client.get("/v2/", headers=basic("alice", "wrong-password"))
    assert resp.status == 401
    assert _challenge(resp).startswith("Bearer realm=")


async def test_wrong_password_is_refused_by_the_token_endpoint(hub):
    await hub.add_user("alice")
    resp = await hub.client.get(
        "/token", params={"service": "berth"}, headers=basic("alice", "nope-nope")
    )
    assert resp.status == 401
    assert await error_code(resp) == "UNAUTHORIZED"
    resp = await hub.client.get("/token", headers=basic("nobody", PASSWORD))
    assert resp.status == 401


async def test_expired_token_is_refused(hub):
    await hub.add_user("alice")
    issuer = hub.client.app[keys.TOKEN_ISSUER]
    access = jwt.decode(
        (await hub.token(basic("alice", PASSWORD), "repository:alice/app:pull"))["token"],
        options={"verify_signature": False},
    )
    assert access["access"]
    from registry.auth.access import Access

    stale = issuer.access_token(
        "alice",
        [Access("repository", "alice/app", frozenset({"pull"}))],
        now=int(time.time()) - 3600,
        ttl=300,
        user=await _binding(hub, "alice"),
    )
    resp = await hub.client.get("/v2/alice/app/tags/list", headers=bearer(stale))
    assert resp.status == 401
    assert 'error="invalid_token"' in _challenge(resp)


async def test_token_signed_by_another_key_is_refused(hub):
    from registry.auth.access import Access

    await hub.add_user("alice")
    foreign = TokenIssuer(SigningKey.from_pem(new_private_key_pem()), "berth")
    token = foreign.access_token(
        "alice",
        [Access("repository", "alice/app", frozenset({"pull", "push"}))],
        now=int(time.time()),
        ttl=300,
        user=await _binding(hub, "alice"),
    )
    resp = await hub.client.post("/v2/alice/app/blobs/uploads/", headers=bearer(token))
    assert resp.status == 401
    # The same key id with a foreign key: the signature check still fails.
    mine = hub.client.app[keys.TOKEN_ISSUER].key.kid
    forged = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        foreign.key.private_key,
        "ES256",
        headers={"kid": mine},
    )
    resp = await hub.client.post("/v2/alice/app/blobs/uploads/", headers=bearer(forged))
    assert resp.status == 401


async def test_token_for_another_repository_is_refused(hub):
    alice = await hub.add_user("alice")
    token = await hub.bearer_for(alice, "repository:alice/other:pull,push")
    assert await push(hub.client, "alice/other", "v1", token) == 201
    resp = await hub.client.post("/v2/alice/app/blobs/uploads/", headers=token)
    assert resp.status == 401
    assert 'error="insufficient_scope"' in _challenge(resp)
    assert await pull_status(hub.client, "alice/app", "v1", token) == 401


async def test_tampered_token_is_refused(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await push(
        hub.client, "alice/app", "v1", await hub.bearer_for(alice, "repository:alice/app:pull,push")
    )
    token = (await hub.token(bob, "repository:bob/app:pull,push"))["token"]
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["access"][0]["name"] = "alice/app"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = f"{head}.{forged_payload}.{signature}"
    resp = await hub.client.get("/v2/alice/app/manifests/v1", headers=bearer(forged))
    assert resp.status == 401
    assert 'error="invalid_token"' in _challenge(resp)
    resp = await hub.client.get("/v2/", headers=bearer(token[:-4] + "AAAA"))
    assert resp.status == 401
    resp = await hub.client.get("/v2/", headers=bearer("not-a-jwt"))
    assert resp.status == 401


async def test_token_with_wrong_audience_is_refused(hub):
    from registry.auth.access import Access

    await hub.add_user("alice")
    key = hub.client.app[keys.TOKEN_ISSUER].key
    other_service = TokenIssuer(key, "another-registry")
    token = other_service.access_token(
        "alice",
        [Access("repository", "alice/app", frozenset({"pull"}))],
        now=int(time.time()),
        ttl=300,
        user=await _binding(hub, "alice"),
    )
    resp = await hub.client.get("/v2/alice/app/tags/list", headers=bearer(token))
    assert resp.status == 401


async def test_refresh_token_flow(hub):
    alice = await hub.add_user("alice")
    body = await hub.token(alice, offline=True)
    refresh = body["refresh_token"]
    resp = await hub.client.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "service": "berth",
            "scope": "repository:alice/app:pull,push",
            "client_id": "docker",
        },
    )
    assert resp.status == 200, await resp.text()
    token = bearer((await resp.json())["access_token"])
    assert await push(hub.client, "alice/app", "v1", token) == 201
    # A refresh token is not an access token, and the reverse.
    assert (await hub.client.get("/v2/", headers=bearer(refresh))).status == 401
    resp = await hub.client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": token["Authorization"][7:]}
    )
    assert resp.status == 401
    # A password change kills refresh tokens made from the old password.
    resp = await hub.client.put(
        "/api/v1/user/password",
        json={"password": "new-password-1", "current_password": PASSWORD},
        headers=alice,
    )
    assert resp.status == 204
    resp = await hub.client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert resp.status == 401


async def test_password_grant(hub):
    await hub.add_user("alice")
    resp = await hub.client.post(
        "/token",
        data={
            "grant_type": "password",
            "username": "alice",
            "password": PASSWORD,
            "service": "berth",
            "scope": "repository:alice/app:pull",
            "access_type": "offline",
        },
    )
    assert resp.status == 200
    body = await resp.json()
    assert body["refresh_token"]
    assert body["scope"] == "repository:alice/app:pull"
    resp = await hub.client.post(
        "/token", data={"grant_type": "password", "username": "alice", "password": "bad-one-1"}
    )
    assert resp.status == 401
    resp = await hub.client.post("/token", data={"grant_type": "client_credentials"})
    assert resp.status == 400


async def test_catalog_lists_only_visible_repositories(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await push(hub.client, "alice/app", "v1", alice)
    await push(hub.client, "alice/public", "v1", alice)
    await push(hub.client, "bob/app", "v1", bob)
    await hub.client.patch(
        "/api/v1/repositories/alice/public", json={"is_public": True}, headers=alice
    )

    async def catalog(credentials):
        token = await hub.bearer_for(credentials, "registry:catalog:*")
        resp = await hub.client.get("/v2/_catalog", headers=token)
        assert resp.status == 200
        return (await resp.json())["repositories"]

    assert await catalog(alice) == ["alice/app", "alice/public"]
    assert await catalog(bob) == ["alice/public", "bob/app"]
    assert await catalog(None) == ["alice/public"]
    assert await catalog(ADMIN) == ["alice/app", "alice/public", "bob/app"]
    token = await hub.bearer_for(bob, "registry:catalog:*")
    resp = await hub.client.get("/v2/_catalog?n=1", headers=token)
    assert (await resp.json())["repositories"] == ["alice/public"]
    assert "last=alice/public" in resp.headers["Link"]
    resp = await hub.client.get("/v2/_catalog?n=1&last=alice/public", headers=token)
    assert (await resp.json())["repositories"] == ["bob/app"]


async def test_a_token_granting_star_covers_push_and_pull(hub):
    # notary asks for `*` alone (key rotation, delete) and then publishes with that token
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    star = await hub.token(alice, "repository:alice/app:*")
    claims = jwt.decode(star["token"], options={"verify_signature": False})
    assert claims["access"] == [{"type": "repository", "name": "alice/app", "actions": ["*"]}]
    assert await push(hub.client, "alice/app", "v1", bearer(star["token"])) == 201
    assert await pull_status(hub.client, "alice/app", "v1", bearer(star["token"])) == 200
    # bob holds no `*` on alice's repository, so his token carries none
    refused = await hub.bearer_for(bob, "repository:alice/app:*")
    assert await push(hub.client, "alice/app", "v2", refused, seed="b") == 401  # insufficient scope
