"""Accounts: organizations, teams and roles, access tokens, throttling, audit, secrets at rest."""

from __future__ import annotations

import asyncio
import logging
import time

import jwt

from registry.auth.credentials import hash_password
from registry.db import account_queries
from registry.db.engine import create_engine
from tests.api.conftest import error_code
from tests.api.hub.conftest import ADMIN, ADMIN_PASSWORD, PASSWORD, basic, bearer
from tests.api.hub.push import pull_status, push


async def _org_with_team(hub, role: str, repository: str | None = None):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    resp = await hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=alice)
    assert resp.status == 201, await resp.text()
    assert (await hub.client.put("/api/v1/orgs/acme/teams/devs", headers=alice)).status == 201
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/members/bob", headers=alice)
    assert resp.status == 204
    grant = {"role": role, **({"repository": repository} if repository else {})}
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/grants", json=grant, headers=alice)
    assert resp.status == 204, await resp.text()
    return alice, bob


async def test_team_member_with_write_may_push(hub):
    alice, bob = await _org_with_team(hub, "write")
    token = await hub.bearer_for(bob, "repository:acme/app:pull,push")
    assert await push(hub.client, "acme/app", "v1", token) == 201
    # Write is not delete.
    token = await hub.bearer_for(bob, "repository:acme/app:delete")
    resp = await hub.client.delete("/v2/acme/app/manifests/v1", headers=token)
    assert resp.status == 401  # insufficient scope: a bearer token may be traded for more
    assert await error_code(resp) == "DENIED"
    # The org owner may delete.
    token = await hub.bearer_for(alice, "repository:acme/app:delete")
    assert (await hub.client.delete("/v2/acme/app/manifests/v1", headers=token)).status == 202
    org = await (await hub.client.get("/api/v1/orgs/acme", headers=alice)).json()
    teams = {team["name"]: team for team in org["teams"]}
    assert teams["owners"]["members"] == ["alice"]
    assert teams["devs"] == {
        "name": "devs",
        "members": ["bob"],
        "grants": [{"repository": None, "role": "write"}],
    }


async def test_read_role_pulls_but_does_not_push(hub):
    alice, bob = await _org_with_team(hub, "read")
    assert await push(hub.client, "acme/app", "v1", alice) == 201
    token = await hub.bearer_for(bob, "repository:acme/app:pull,push")
    assert await pull_status(hub.client, "acme/app", "v1", token) == 200
    assert await push(hub.client, "acme/app", "v2", token, seed="b") == 401
    # With basic auth, nothing more can be asked for: 403.
    assert await push(hub.client, "acme/app", "v2", bob, seed="b") == 403


async def test_role_on_a_single_repository(hub):
    alice, bob = await _org_with_team(hub, "write", repository="app")
    assert await push(hub.client, "acme/app", "v1", bob) == 201
    assert await push(hub.client, "acme/other", "v1", bob) == 403
    # Removing the member takes the right away.
    resp = await hub.client.delete("/api/v1/orgs/acme/teams/devs/members/bob", headers=alice)
    assert resp.status == 204
    assert await push(hub.client, "acme/app", "v2", bob, seed="c") == 403


async def test_only_owners_manage_an_org(hub):
    _, bob = await _org_with_team(hub, "write")
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/members/bob", headers=bob)
    assert resp.status == 403
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/members/bob", headers=ADMIN)
    assert resp.status == 204
    resp = await hub.client.put(
        "/api/v1/orgs/acme/teams/devs/grants", json={"role": "god"}, headers=ADMIN
    )
    assert resp.status == 400
    resp = await hub.client.post("/api/v1/orgs", json={"name": "alice"}, headers=bob)
    assert resp.status == 409  # users and orgs share names


async def test_pushing_outside_ones_namespaces_is_denied(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "nobody/app", "v1", alice) == 403
    assert await push(hub.client, "library/app", "v1", alice) == 403
    assert await push(hub.client, "nobody/app", "v1", ADMIN) == 201


async def test_library_holds_official_images(hub):
    alice = await hub.add_user("alice")
    # A bare name is library/<name>; only admins push there.
    assert await push(hub.client, "busybox", "1", alice) == 403
    assert await push(hub.client, "busybox", "1", ADMIN) == 201
    token = await hub.bearer_for(None, "repository:busybox:pull")
    assert await pull_status(hub.client, "busybox", "1", token) == 200
    assert await pull_status(hub.client, "library/busybox", "1", token) == 200
    info = await (await hub.client.get("/api/v1/repositories/busybox")).json()
    assert info["name"] == "library/busybox"
    assert info["is_official"] is True and info["is_public"] is True


async def test_namespace_default_visibility(hub):
    alice = await hub.add_user("alice")
    resp = await hub.client.put(
        "/api/v1/namespaces/alice", json={"default_public": True}, headers=alice
    )
    assert resp.status == 204
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    info = await (await hub.client.get("/api/v1/repositories/alice/app")).json()
    assert info["is_public"] is True
    bob = await hub.add_user("bob")
    resp = await hub.client.put(
        "/api/v1/namespaces/alice", json={"default_public": False}, headers=bob
    )
    assert resp.status == 403


async def test_read_only_access_token_pulls_and_does_not_push(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    created = await hub.create_token(alice, "read")
    secret = created["token"]
    assert secret.startswith("bth_") and created["scopes"] == ["read"]
    pat = basic("alice", secret)
    assert await pull_status(hub.client, "alice/app", "v1", pat) == 200
    assert await push(hub.client, "alice/app", "v2", pat, seed="b") == 403
    body = await hub.token(pat, "repository:alice/app:pull,push")
    claims = jwt.decode(body["token"], options={"verify_signature": False})
    assert claims["access"] == [{"type": "repository", "name": "alice/app", "actions": ["pull"]}]
    # A read token cannot mint more tokens.
    resp = await hub.client.post(
        "/api/v1/user/tokens", json={"name": "x", "scopes": ["admin"]}, headers=pat
    )
    assert resp.status == 403
    # Listed without the secret, with the login above as its last use.
    listed = await (await hub.client.get("/api/v1/user/tokens", headers=alice)).json()
    assert [t["name"] for t in listed["tokens"]] == ["ci"]
    assert "token" not in listed["tokens"][0]
    assert listed["tokens"][0]["last_used"] is not None


async def test_write_token_pushes(hub):
    alice = await hub.add_user("alice")
    pat = basic("alice", (await hub.create_token(alice, "write"))["token"])
    assert await push(hub.client, "alice/app", "v1", pat) == 201
    # A token belongs to its user: another name with it is refused.
    await hub.add_user("bob")
    resp = await hub.client.get("/v2/", headers=basic("bob", pat["Authorization"]))
    assert resp.status == 401


async def test_revoked_token_is_refused_at_once(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    created = await hub.create_token(alice, "read")
    pat = basic("alice", created["token"])
    minted = await hub.token(pat, "repository:alice/app:pull", offline=True)
    assert await pull_status(hub.client, "alice/app", "v1", bearer(minted["token"])) == 200
    resp = await hub.client.delete(f"/api/v1/user/tokens/{created['id']}", headers=alice)
    assert resp.status == 204
    # Basic auth, the token endpoint, the bearer token minted from it and its refresh token.
    assert await pull_status(hub.client, "alice/app", "v1", pat) == 401
    resp = await hub.client.get("/token", headers=pat)
    assert resp.status == 401
    assert await pull_status(hub.client, "alice/app", "v1", bearer(minted["token"])) == 401
    resp = await hub.client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": minted["refresh_token"]}
    )
    assert resp.status == 401
    listed = await (await hub.client.get("/api/v1/user/tokens", headers=alice)).json()
    assert listed["tokens"][0]["revoked"] is not None


async def test_a_token_stops_working_when_it_expires(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    resp = await hub.client.post("/api/v1/user/tokens", headers=alice,
                                 json={"name": "brief", "scopes": ["read"], "expires_in": 2})
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert created["expires"].endswith("Z")
    pat = basic("alice", created["token"])
    minted = await hub.token(pat, "repository:alice/app:pull", offline=True)
    assert await pull_status(hub.client, "alice/app", "v1", pat) == 200
    assert await pull_status(hub.client, "alice/app", "v1", bearer(minted["token"])) == 200
    deadline = time.monotonic() + 30
    while await pull_status(hub.client, "alice/app", "v1", pat) != 401:
        assert time.monotonic() < deadline, "the token outlived its expiry"
        await asyncio.sleep(0.2)
    assert (await hub.client.get("/token", headers=pat)).status == 401
    # The bearer token minted from it ends with it (its binding is checked within a second).
    while await pull_status(hub.client, "alice/app", "v1", bearer(minted["token"])) != 401:
        assert time.monotonic() < deadline, "a bearer token outlived its access token"
        await asyncio.sleep(0.2)
    resp = await hub.client.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": minted["refresh_token"]}
    )
    assert resp.status == 401
    listed = await (await hub.client.get("/api/v1/user/tokens", headers=alice)).json()
    assert listed["tokens"][0]["expires"] == created["expires"]


async def test_a_token_expiry_must_be_ahead_and_within_a_year(hub):
    alice = await hub.add_user("alice")
    for seconds in (0, -5, 400 * 86400):
        resp = await hub.client.post("/api/v1/user/tokens", headers=alice,
                                     json={"name": "t", "scopes": ["read"], "expires_in": seconds})
        assert resp.status == 400, seconds
    resp = await hub.client.post("/api/v1/user/tokens", headers=alice,
                                 json={"name": "t", "scopes": ["read"]})
    assert (await resp.json())["expires"] is None  # without one, until revoked


async def _change_elsewhere(hub, change) -> None:
    """Run `change(conn, user)` for alice on a connection of its own, as a CLI process would."""
    engine = create_engine(hub.settings.database_url)
    try:
        async with engine.begin() as conn:
            await change(conn, await account_queries.user_by_name(conn, "alice"))
    finally:
        await engine.dispose()


async def test_basic_auth_sees_a_revocation_from_another_process_on_the_next_request(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    created = await hub.create_token(alice, "read")
    pat = basic("alice", created["token"])
    assert await pull_status(hub.client, "alice/app", "v1", pat) == 200

    async def revoke(conn, user):
        assert await account_queries.revoke_token(conn, user.id, created["id"])

    await _change_elsewhere(hub, revoke)
    assert await pull_status(hub.client, "alice/app", "v1", pat) == 401
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 200


async def test_basic_auth_sees_a_password_change_from_another_process_on_the_next_request(hub):
    alice = await hub.add_user("alice")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 200  # now remembered

    async def change_password(conn, user):
        await account_queries.set_password_hash(conn, user.id, hash_password("new-horse-10"))

    await _change_elsewhere(hub, change_password)
    assert await pull_status(hub.client, "alice/app", "v1", alice) == 401
    assert await pull_status(hub.client, "alice/app", "v1", basic("alice", "new-horse-10")) == 200


async def test_failed_logins_are_throttled_per_account_and_address(hub):
    await hub.add_user("alice")
    for _ in range(hub.settings.login_failures_per_pair):
        resp = await hub.client.get("/token", headers=basic("alice", "wrong-guess"))
        assert resp.status == 401
    # This address is refused for alice now, even with the right password.
    resp = await hub.client.get("/token", headers=basic("alice", PASSWORD))
    assert resp.status == 429
    assert await error_code(resp) == "TOOMANYREQUESTS"
    assert resp.headers["Retry-After"] == str(hub.settings.login_window_seconds)
    # Other accounts still log in from here (other addresses: tests/api/hub/test_login_throttle).
    await hub.add_user("bob")
    assert (await hub.client.get("/token", headers=basic("bob", PASSWORD))).status == 200


async def test_an_address_spraying_names_keeps_one_try_per_account(hub):
    await hub.add_user("alice")
    await hub.add_user("bob")
    for i in range(hub.settings.login_failures_per_address):
        resp = await hub.client.get("/token", headers=basic(f"guess{i}", "wrong-guess"))
        assert resp.status == 401
    # An account this address has not failed on still logs in (a user behind the same NAT)...
    assert (await hub.client.get("/token", headers=basic("alice", PASSWORD))).status == 200
    # ...but one failure on an account is all this address gets there now.
    assert (await hub.client.get("/token", headers=basic("bob", "wrong-guess"))).status == 401
    assert (await hub.client.get("/token", headers=basic("bob", PASSWORD))).status == 429


async def test_audit_log_is_for_admins(hub):
    alice = await hub.add_user("alice")
    await hub.client.get("/token", headers=basic("alice", "wrong-guess"))
    await hub.token(alice, "repository:alice/app:pull")
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    token = await hub.bearer_for(alice, "repository:alice/app:delete")
    assert (await hub.client.delete("/v2/alice/app/manifests/v1", headers=token)).status == 202
    await hub.create_token(alice, "read")
    assert (await hub.client.get("/api/v1/audit", headers=alice)).status == 403
    events = (await (await hub.client.get("/api/v1/audit", headers=ADMIN)).json())["events"]
    seen = [(e["actor"], e["action"], e["target"]) for e in reversed(events)]
    for expected in [
        ("admin", "user-add", "alice"),
        ("alice", "login-failed", "alice"),
        ("alice", "login", "alice"),
        ("alice", "push", "alice/app"),
        ("alice", "delete", "alice/app"),
        ("alice", "token-add", "alice"),
    ]:
        assert expected in seen
    only = await (await hub.client.get("/api/v1/audit?action=push", headers=ADMIN)).json()
    assert {e["action"] for e in only["events"]} == {"push"}


async def _dump_database(url: str) -> str:
    """Every row of every hub table, as text."""
    from sqlalchemy import select

    from registry.db import hub_models  # noqa: F401  (the Hub tables on Base)
    from registry.db.engine import create_engine
    from registry.db.models import Base

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = []
            for table in Base.metadata.sorted_tables:
                rows += [repr(tuple(row)) for row in await conn.execute(select(table))]
            return "\n".join(rows)
    finally:
        await engine.dispose()


async def test_secrets_never_stored_or_logged_in_clear(hub, caplog):
    caplog.set_level(logging.DEBUG)
    alice = await hub.add_user("alice")
    secret = (await hub.create_token(alice, "write"))["token"]
    body = await hub.token(basic("alice", secret), "repository:alice/app:pull", offline=True)
    await hub.client.get("/token", headers=basic("alice", "wrong-guess-2"))
    dump = await _dump_database(hub.settings.database_url)
    for clear in (PASSWORD, ADMIN_PASSWORD, secret, "wrong-guess-2", body["token"]):
        assert clear not in dump
        assert clear not in caplog.text
    assert "$argon2id$" in dump


async def test_user_administration(hub):
    alice = await hub.add_user("alice")
    assert (await hub.client.post("/api/v1/users", json={"name": "x"}, headers=alice)).status == 403
    resp = await hub.client.post(
        "/api/v1/users", json={"name": "alice", "password": PASSWORD}, headers=ADMIN
    )
    assert resp.status == 409
    resp = await hub.client.post(
        "/api/v1/users", json={"name": "Bad Name", "password": PASSWORD}, headers=ADMIN
    )
    assert resp.status == 400
    resp = await hub.client.post(
        "/api/v1/users", json={"name": "carol", "password": "short"}, headers=ADMIN
    )
    assert resp.status == 400
    users = await (await hub.client.get("/api/v1/users", headers=ADMIN)).json()
    assert [u["name"] for u in users["users"]] == ["admin", "alice"]
    me = await (await hub.client.get("/api/v1/user", headers=alice)).json()
    assert me["name"] == "alice" and me["is_admin"] is False
    assert (await hub.client.delete("/api/v1/users/alice", headers=ADMIN)).status == 204
    assert (await hub.client.get("/api/v1/user", headers=alice)).status == 401
    assert (await hub.client.get("/api/v1/user")).status == 401
