"""Robot accounts: an organisation's scoped, expiring credentials, on SQLite and PostgreSQL.

alice owns the organisation `acme`; bob is a member of its `devs` team (not an owner). Robots
log in as `robot$acme+<name>` with basic auth or through `/token`, act only inside their
scope, never as an account, and are refused at once when revoked or expired.
"""

from __future__ import annotations

import asyncio

import jwt
import pytest

from registry import keys
from tests.api.hub.conftest import ADMIN, Hub, basic, bearer
from tests.api.hub.push import pull_status, push
from tests.web.support import WebClient

ROBOT = "robot$acme+ci"


@pytest.fixture
async def acme(hub: Hub) -> dict[str, dict[str, str]]:
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    resp = await hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=alice)
    assert resp.status == 201
    assert (await hub.client.put("/api/v1/orgs/acme/teams/devs", headers=alice)).status == 201
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/members/bob", headers=alice)
    assert resp.status == 204
    resp = await hub.client.put(
        "/api/v1/orgs/acme/teams/devs/grants", json={"role": "write"}, headers=alice
    )
    assert resp.status == 204
    # A private repository of acme's outside the robots' scopes, and one of alice's own.
    assert await push(hub.client, "acme/secret", "v1", alice, seed="s") == 201
    assert await push(hub.client, "alice/own", "v1", alice, seed="o") == 201
    return {"alice": alice, "bob": bob}


async def add_robot(hub: Hub, by: dict[str, str], status: int = 201, **body) -> dict:
    wanted = {
        "name": "ci",
        "repositories": ["app", "team/*"],
        "actions": ["push"],
        "expires_in": 3600,
        **body,
    }
    resp = await hub.client.post("/api/v1/orgs/acme/robots", json=wanted, headers=by)
    assert resp.status == status, await resp.text()
    return await resp.json()


async def robots(hub: Hub, by: dict[str, str]) -> dict[str, dict]:
    resp = await hub.client.get("/api/v1/orgs/acme/robots", headers=by)
    assert resp.status == 200, await resp.text()
    return {robot["name"]: robot for robot in (await resp.json())["robots"]}


async def test_an_owner_creates_a_robot_whose_secret_is_shown_once(hub, acme):
    created = await add_robot(hub, acme["alice"], description="CI pushes")
    assert created["login"] == ROBOT
    assert created["secret"].startswith("bthr_")
    assert created["actions"] == ["pull", "push"]  # push includes pull
    assert created["repositories"] == ["app", "team/*"]
    assert created["created_by"] == "alice"
    listed = await robots(hub, acme["alice"])
    assert "secret" not in listed["ci"]
    assert listed["ci"]["last_used"] is None and listed["ci"]["expired"] is False
    # The secret is stored as a digest only: it appears nowhere in the listing or the audit log.
    audit = await (await hub.client.get("/api/v1/audit", headers=ADMIN)).text()
    assert created["secret"] not in audit and "robot-add" in audit
    await add_robot(hub, acme["alice"], status=409)  # one name per organisation


async def test_only_the_organisations_managers_handle_its_robots(hub, acme):
    await add_robot(hub, acme["bob"], status=403)  # a member who may push is no manager
    assert (await hub.client.get("/api/v1/orgs/acme/robots", headers=acme["bob"])).status == 403
    await add_robot(hub, ADMIN, name="admins")  # hub admins manage every organisation
    created = await add_robot(hub, acme["alice"])
    resp = await hub.client.delete("/api/v1/orgs/acme/robots/ci", headers=acme["bob"])
    assert resp.status == 403
    # A robot manages no robot, not even itself; nor does a bearer token.
    robot = basic(ROBOT, created["secret"])
    await add_robot(hub, robot, status=401, name="other")
    assert (await hub.client.delete("/api/v1/orgs/acme/robots/ci", headers=robot)).status == 401
    token = await hub.bearer_for(acme["alice"], "repository:acme/app:pull")
    await add_robot(hub, token, status=401, name="other")
    # A read-only access token of an owner may not either.
    read = (await hub.create_token(acme["alice"], "read"))["token"]
    await add_robot(hub, basic("alice", read), status=403, name="other")
    assert set(await robots(hub, acme["alice"])) == {"admins", "ci"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "CI"}, "invalid robot name"),
        ({"name": "a" * 60}, "at most 64"),
        ({"repositories": []}, "repository patterns"),
        ({"repositories": ["../x"]}, "invalid repository pattern"),
        ({"repositories": ["a**"]}, "invalid repository pattern"),
        ({"actions": ["*"]}, "robot actions"),
        ({"actions": []}, "robot actions"),
        ({"expires_in": None}, "expires_at"),
        ({"expires_in": 0}, "expires_in"),
        ({"expires_in": None, "expires_at": "2020-01-01T00:00:00Z"}, "future"),
        ({"expires_in": None, "expires_at": "tomorrow"}, "RFC 3339"),
    ],
)
async def test_a_robot_needs_a_valid_name_scope_and_expiry(hub, acme, body, message):
    resp = await hub.client.post(
        "/api/v1/orgs/acme/robots",
        json={"name": "ci", "repositories": ["app"], "actions": ["pull"], "expires_in": 60, **body},
        headers=acme["alice"],
    )
    assert resp.status == 400
    assert message in (await resp.json())["errors"][0]["message"]


async def test_a_robot_pushes_and_pulls_inside_its_scope_only(hub, acme):
    robot = basic(ROBOT, (await add_robot(hub, acme["alice"]))["secret"])
    # A first push inside its scope creates the repository; patterns match one component.
    assert await push(hub.client, "acme/app", "v1", robot) == 201
    assert await push(hub.client, "acme/team/api", "v1", robot, seed="t") == 201
    assert await pull_status(hub.client, "acme/app", "v1", robot) == 200
    for outside in ("acme/other", "acme/team/deep/api", "acme/apps", "alice/app", "library/app"):
        assert await push(hub.client, outside, "v1", robot, seed="x") == 403, outside
    # Private repositories outside its scope stay private to it.
    assert await pull_status(hub.client, "acme/secret", "v1", robot) == 403
    assert await pull_status(hub.client, "alice/own", "v1", robot) == 403
    # It holds push, not delete.
    resp = await hub.client.delete("/v2/acme/app/manifests/v1", headers=robot)
    assert resp.status == 403
    # The catalog lists only public repositories for it (none here).
    resp = await hub.client.get("/v2/_catalog", headers=robot)
    assert (await resp.json())["repositories"] == []
    listed = await robots(hub, acme["alice"])
    assert listed["ci"]["last_used"] is not None


async def test_a_robots_token_holds_only_what_it_asked_for_and_was_granted(hub, acme):
    secret = (await add_robot(hub, acme["alice"], actions=["pull"], repositories=["**"]))["secret"]
    answer = await hub.token(
        basic(ROBOT, secret),
        "repository:acme/secret:pull,push,delete,*",
        "repository:alice/own:pull",
        "repository:acme/team/deep/x:pull",
    )
    claims = jwt.decode(answer["token"], options={"verify_signature": False})
    assert claims["sub"] == ROBOT and "uid" not in claims and "rid" in claims
    access = {entry["name"]: entry["actions"] for entry in claims["access"]}
    assert access == {"acme/secret": ["pull"], "acme/team/deep/x": ["pull"]}
    token = bearer(answer["token"])
    assert await pull_status(hub.client, "acme/secret", "v1", token) == 200
    assert await push(hub.client, "acme/secret", "v2", token, seed="n") == 401
    # Docker's login asks for an identity token: a robot gets none (clients keep its secret).
    offline = await hub.token(basic(ROBOT, secret), offline=True)
    assert "refresh_token" not in offline
    resp = await hub.client.post(
        "/token",
        data={
            "grant_type": "password",
            "username": ROBOT,
            "password": secret,
            "scope": "repository:acme/secret:pull,push",
            "access_type": "offline",
        },
    )
    body = await resp.json()
    assert resp.status == 200 and "refresh_token" not in body
    assert body["scope"] == "repository:acme/secret:pull"


async def test_a_robot_never_acts_as_an_account(hub, acme):
    secret = (await add_robot(hub, acme["alice"], repositories=["**"], actions=["push", "delete"]))[
        "secret"
    ]
    as_robot = basic(ROBOT, secret)
    token = await hub.bearer_for(as_robot, "repository:acme/secret:pull,push,delete")
    for credentials in (as_robot, token):
        for method, path, body in (
            ("GET", "/api/v1/user", None),
            ("GET", "/api/v1/user/tokens", None),
            ("POST", "/api/v1/user/tokens", {"name": "x", "scopes": ["admin"]}),
            ("PUT", "/api/v1/user/password", {"password": "x" * 12, "current_password": secret}),
            ("POST", "/api/v1/orgs", {"name": "robotorg"}),
            ("PUT", "/api/v1/orgs/acme/teams/bots", None),
            ("PUT", "/api/v1/orgs/acme/teams/owners/members/bob", None),
            ("PUT", "/api/v1/namespaces/acme", {"default_public": True}),
            ("GET", "/api/v1/users", None),
            ("PUT", "/api/v1/repositories/acme/secret/star", None),
        ):
            resp = await hub.client.request(method, path, json=body, headers=credentials)
            assert resp.status == 401, (method, path, resp.status)
    # Nor does a web sign-in take its secret.
    browser = WebClient(hub.client)
    try:
        status, text, _ = await browser.submit("/login", {"username": ROBOT, "password": secret})
        assert status == 401 and "Incorrect user name or password" in text
    finally:
        await browser.close()
    # A user name cannot pass for a robot's, nor a robot's secret for another robot's.
    other = (await add_robot(hub, acme["alice"], name="other"))["secret"]
    assert await pull_status(hub.client, "acme/secret", "v1", basic("robot$acme+ci", other)) == 401
    assert await pull_status(hub.client, "acme/secret", "v1", basic("alice", secret)) == 401


async def test_revoking_a_robot_refuses_its_secret_and_its_tokens_at_once(hub, acme):
    secret = (await add_robot(hub, acme["alice"]))["secret"]
    robot = basic(ROBOT, secret)
    assert await push(hub.client, "acme/app", "v1", robot) == 201
    token = await hub.bearer_for(robot, "repository:acme/app:pull,push")
    assert await pull_status(hub.client, "acme/app", "v1", token) == 200
    resp = await hub.client.delete("/api/v1/orgs/acme/robots/ci", headers=acme["alice"])
    assert resp.status == 204
    assert await pull_status(hub.client, "acme/app", "v1", token) == 401
    assert await pull_status(hub.client, "acme/app", "v1", robot) == 401
    resp = await hub.client.get(
        "/token", params={"scope": "repository:acme/app:pull"}, headers=robot
    )
    assert resp.status == 401
    assert await robots(hub, acme["alice"]) == {}
    # A new robot of the same name (on SQLite maybe with the same id) is another robot: the old
    # token stays refused, and the new robot's own tokens work.
    secret = (await add_robot(hub, acme["alice"]))["secret"]
    assert await pull_status(hub.client, "acme/app", "v1", token) == 401
    assert await pull_status(hub.client, "acme/app", "v1", basic(ROBOT, secret)) == 200
    renewed = await hub.bearer_for(basic(ROBOT, secret), "repository:acme/app:pull")
    assert await pull_status(hub.client, "acme/app", "v1", renewed) == 200
    resp = await hub.client.delete("/api/v1/orgs/acme/robots/nobody", headers=acme["alice"])
    assert resp.status == 404


async def test_an_expired_robot_and_its_tokens_are_refused(hub, acme):
    secret = (await add_robot(hub, acme["alice"], expires_in=2))["secret"]
    robot = basic(ROBOT, secret)
    answer = await hub.token(robot, "repository:acme/app:pull,push")
    assert answer["expires_in"] <= 2  # a token never outlives its robot
    assert await push(hub.client, "acme/app", "v1", robot) == 201
    token = bearer(answer["token"])
    assert await pull_status(hub.client, "acme/app", "v1", token) == 200
    await asyncio.sleep(2.2)
    assert await pull_status(hub.client, "acme/app", "v1", robot) == 401
    assert await pull_status(hub.client, "acme/app", "v1", token) == 401
    resp = await hub.client.get(
        "/token", params={"scope": "repository:acme/app:pull"}, headers=robot
    )
    assert resp.status == 401
    assert (await robots(hub, acme["alice"]))["ci"]["expired"] is True


async def test_removing_the_organisation_removes_its_robots(hub, acme):
    secret = (await add_robot(hub, acme["alice"]))["secret"]
    assert (await hub.client.delete("/api/v1/orgs/acme", headers=acme["alice"])).status == 204
    assert (await hub.client.get("/v2/", headers=basic(ROBOT, secret))).status == 401


async def test_a_robot_changes_no_visibility_and_deletes_only_with_delete(hub, acme):
    secret = (await add_robot(hub, acme["alice"], repositories=["**"]))["secret"]
    robot = basic(ROBOT, secret)
    assert await push(hub.client, "acme/app", "v1", robot) == 201
    path = "/api/v1/repositories/acme/app"
    resp = await hub.client.patch(path, json={"is_public": True}, headers=robot)
    assert resp.status == 403  # visibility needs `*`, which no robot holds
    assert (await hub.client.delete(path, headers=robot)).status == 403
    resp = await hub.client.get(path, headers=acme["alice"])
    assert (await resp.json())["is_public"] is False


async def test_failed_robot_logins_are_throttled_per_address(hub, acme):
    secret = (await add_robot(hub, acme["alice"]))["secret"]
    wrong = basic(ROBOT, "bthr_" + "x" * 43)
    for _ in range(hub.settings.login_failures_per_pair):
        assert (await hub.client.get("/v2/", headers=wrong)).status == 401
    # This address is refused for the robot, right secret or not, until the window passes.
    assert (await hub.client.get("/v2/", headers=basic(ROBOT, secret))).status == 429
    assert (await hub.client.get("/v2/", headers=acme["alice"])).status == 200


async def test_a_robots_token_cannot_be_stretched_to_an_account(hub, acme):
    """Even signed with the hub's own key, a robot token naming a user, or both, is refused."""
    secret = (await add_robot(hub, acme["alice"], repositories=["**"]))["secret"]
    assert await push(hub.client, "acme/app", "v1", basic(ROBOT, secret)) == 201
    claims = jwt.decode(
        (await hub.token(basic(ROBOT, secret), "repository:acme/app:pull"))["token"],
        options={"verify_signature": False},
    )
    alice = jwt.decode(
        (await hub.token(acme["alice"]))["token"], options={"verify_signature": False}
    )
    issuer = hub.client.app[keys.TOKEN_ISSUER]

    def signed(**changes) -> dict[str, str]:
        token = jwt.encode(
            {**claims, **changes}, issuer.key.private_key, "ES256", headers={"kid": issuer.key.kid}
        )
        return bearer(token)

    assert await pull_status(hub.client, "acme/app", "v1", signed()) == 200
    both = signed(uid=alice["uid"], ust=alice["ust"])
    assert await pull_status(hub.client, "acme/app", "v1", both) == 401
    assert (await hub.client.get("/api/v1/user", headers=both)).status == 401
    as_alice = signed(sub="alice")
    assert await pull_status(hub.client, "acme/app", "v1", as_alice) == 401
    other_stamp = signed(rst=claims["rst"] + 1)
    assert await pull_status(hub.client, "acme/app", "v1", other_stamp) == 401
