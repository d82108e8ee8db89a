"""Every route's declared authorisation rule, checked against every kind of caller.

The walk reads the live route table of `create_app(settings)` (auth on, SQLite), looks up
each route's `Rule`, and calls the route as each caller below: anonymous, alice (the owner
of the private repository `alice/app` and the organisation `acme`) with her password, an
anonymous bearer token, another user, alice's read-only and write access tokens, her bearer
tokens for the right and for the wrong repository, her revoked access token, the token of a
deleted and recreated user, her refresh token used as a bearer token, an admin, and a robot
account of alice's organisation `bots` (with every robot action on all of `bots`) by its
secret and by its bearer token.
`expected` says, from the rule alone, who may pass; a refusal is a 401 or 403 (or a 404 where
the rule hides the repository). `broken_invariants` holds every rule to what no rule may
allow (a read-only token changing anything, a bearer token managing an account, ...), so a
rule cannot be weakened unnoticed. A route without a rule cannot even be built into the app.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from registry.api.authorization import RULES, MissingRuleError, check_every_route_has_a_rule
from registry.app import create_app
from registry.auth.rules import Credential, Resource, Rule
from registry.oci import mediatypes as mt
from registry.settings import Settings
from registry.web.routes import STATIC_PREFIX, STATIC_ROUTE
from tests.api.conftest import image_manifest, sha256
from tests.api.hub.conftest import ADMIN, ADMIN_PASSWORD, PASSWORD, Hub, basic, bearer
from tests.api.hub.push import push

REPO = "alice/app"
ALL_ACTIONS = frozenset({"pull", "push", "delete", "*"})
PAT_ACTIONS = {
    "read": {"pull"},
    "write": {"pull", "push"},
    "delete": {"pull", "delete"},
    "admin": ALL_ACTIONS,
}


@dataclass
class Caller:
    """One kind of caller, and what the rules should let it do."""

    label: str
    headers: dict[str, str]
    kind: Credential | None  # None: its credential is no longer (or never was) valid
    user: str | None = None
    admin: bool = False
    scopes: frozenset[str] | None = None  # an access token's
    claims: dict[str, set[str]] = field(default_factory=dict)  # a bearer token's
    password: str | None = None
    token_form: dict[str, str] | None = None  # how it asks POST /token
    basic: bool = False  # sends basic credentials (GET /token reads them)
    robot: bool = False  # a robot account's credential (its secret or its bearer token)


def holds(caller: Caller, repository: str) -> set[str]:
    """The actions the caller holds on a private repository of alice's."""
    if caller.kind is Credential.BEARER:
        actions = caller.claims.get(repository, set())
        return set(ALL_ACTIONS) if "*" in actions else actions
    if caller.user == "alice" or caller.admin:
        if caller.scopes is None:
            return set(ALL_ACTIONS)
        return set().union(*(PAT_ACTIONS[scope] for scope in caller.scopes))
    return set()


def scope_allows(scopes: frozenset[str] | None, needed: str) -> bool:
    if scopes is None or "admin" in scopes:
        return True
    return needed == "read" or needed in scopes


def expected(rule: Rule, method: str, caller: Caller) -> bool:
    """Whether the rule lets the caller through (the specification, written out again)."""
    if rule.resource is Resource.OPEN:
        return True
    if rule.resource is Resource.TOKEN:
        if method == "GET":  # basic credentials or none; a bearer header is not read
            return caller.kind is not None or not caller.basic
        return caller.token_form is not None and caller.kind is not None
    if caller.kind is None or caller.kind not in rule.credentials:
        return False
    if (
        caller.kind is Credential.ACCESS_TOKEN
        and rule.token_scope
        and not scope_allows(caller.scopes, rule.token_scope)
    ):
        return False
    match rule.resource:
        case Resource.REGISTRY | Resource.LISTING | Resource.ACCOUNT:
            return True
        case Resource.CATALOG:
            return caller.kind is not Credential.BEARER or "catalog" in caller.claims
        case Resource.REPOSITORY:
            needed = {"pull", "push"} if rule.action == "push" else {rule.action}
            return needed <= holds(caller, REPO)
        case Resource.ORGANIZATION | Resource.NAMESPACE:
            return caller.user == "alice" or caller.admin  # alice owns `acme`
        case Resource.HUB:
            return caller.admin
    raise AssertionError(f"no expectation for {rule}")


@dataclass
class World:
    """The hub and what the walk needs to call every route."""

    hub: Hub
    alice: dict[str, str]
    manifest: bytes
    config_digest: str
    manifest_digest: str
    counter: itertools.count = field(default_factory=itertools.count)
    # The immutability rule each scope's removal route removes (made again once removed).
    rule_ids: dict[str, str] = field(default_factory=dict)

    async def restore_repository(self) -> None:
        assert await push(self.hub.client, REPO, "v1", self.alice) == 201

    async def restore_victim(self) -> None:
        resp = await self.hub.client.post(
            "/api/v1/users", json={"name": "victim", "password": PASSWORD}, headers=ADMIN
        )
        assert resp.status == 201

    async def restore_org(self) -> None:
        resp = await self.hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=ADMIN)
        if resp.status == 201:  # made by the admin: make alice its owner again
            resp = await self.hub.client.put(
                "/api/v1/orgs/acme/teams/owners/members/alice", headers=ADMIN
            )
            assert resp.status == 204, await resp.text()
        await self.restore_team()

    async def restore_rule(self, scope_path: str) -> None:
        resp = await self.hub.client.post(
            f"{scope_path}/immutable-tags", json={"pattern": "walk-*"}, headers=self.alice
        )
        assert resp.status == 201, await resp.text()
        self.rule_ids[scope_path] = str((await resp.json())["id"])

    async def restore_repository_rule(self) -> None:
        await self.restore_rule(f"/api/v1/repositories/{REPO}")

    async def restore_namespace_rule(self) -> None:
        await self.restore_rule("/api/v1/namespaces/acme")

    async def restore_team(self) -> None:
        resp = await self.hub.client.put("/api/v1/orgs/acme/teams/devs", headers=self.alice)
        assert resp.status in (201, 409), await resp.text()
        await self.restore_robot()

    async def restore_robot(self) -> None:
        resp = await self.hub.client.post(
            "/api/v1/orgs/acme/robots", json=robot_body("walker"), headers=self.alice
        )
        assert resp.status in (201, 409), await resp.text()


RESTORE: dict[str, Callable[[World], Awaitable[None]]] = {
    "manifest-delete": World.restore_repository,
    "blob-delete": World.restore_repository,
    "hub-repo-delete": World.restore_repository,
    "hub-user-rm": World.restore_victim,
    "hub-org-rm": World.restore_org,
    "hub-team-rm": World.restore_team,
    "hub-robot-rm": World.restore_robot,
    "hub-repo-immutable-rm": World.restore_repository_rule,
    "hub-namespace-immutable-rm": World.restore_namespace_rule,
}


def robot_body(name: str, org_wide: bool = False) -> dict:
    actions = ["pull", "push", "delete"] if org_wide else ["pull"]
    return {"name": name, "repositories": ["**"], "actions": actions, "expires_in": 3600}


def request_for(world: World, route: web.AbstractRoute, caller: Caller) -> dict:
    """The method, URL, body and headers that exercise the route for this caller."""
    params = {
        "name": REPO,
        "gun": REPO,
        "uuid": "00000000-0000-4000-8000-000000000000",
        "digest": world.config_digest,
        "reference": "v1",
        "token_id": "999999",
        "user": "victim",
        "org": "acme",
        "team": "devs",
        "namespace": "acme",
        "file": "root.json",
        "role": "snapshot",
        "robot": "walker",
        "webhook_id": "999999",
        "delivery_id": "999999",
        "run_id": "999999",
    }
    name = route.name
    scope = f"/api/v1/repositories/{REPO}" if "-repo-" in name else "/api/v1/namespaces/acme"
    params["rule_id"] = world.rule_ids.get(scope, "0")
    canonical = route.resource.canonical
    wanted = {key: params[key] for key in re.findall(r"\{(\w+)", canonical)}
    url = str(route.resource.url_for(**wanted))
    headers = dict(caller.headers)
    body: dict = {}
    own_password = caller.password or PASSWORD
    if name == "referrers":
        url = url.replace(world.config_digest, world.manifest_digest)
    elif name == "manifest-put":
        body["data"] = world.manifest
        headers["Content-Type"] = mt.OCI_MANIFEST
    elif name == "token-post":
        body["data"] = caller.token_form or {"grant_type": "password"}
        headers.pop("Authorization", None)
    elif name == "token-get" and not caller.basic:
        headers.pop("Authorization", None)  # a bearer header is not a credential there
    json_bodies = {
        "hub-me-password": {"password": own_password, "current_password": own_password},
        "hub-token-add": {"name": "walk", "scopes": ["read"]},
        "hub-user-add": {"name": f"walker{next(world.counter)}", "password": PASSWORD},
        "hub-user-password": {"password": PASSWORD},
        "hub-org-add": {"name": f"walkorg{next(world.counter)}"},
        "hub-grant-put": {"role": "read"},
        "hub-namespace": {"default_public": False},
        "hub-repo-update": {"description": "walked"},
        "hub-robot-add": robot_body(f"walkbot{next(world.counter)}"),
        "hub-repo-immutable-add": {"pattern": "walk-*"},
        "hub-namespace-immutable-add": {"pattern": "walk-*"},
        "hub-repo-retention-put": {"policy": {"keep_newest": 100}},
        "hub-namespace-retention-put": {"policy": {"keep_newest": 100}},
        "hub-repo-retention-run": {"dry_run": True},
        "hub-webhook-add": {"url": "http://127.0.0.1:9/walk"},
        "hub-namespace-quota-put": {"limit_bytes": 2**40},  # room for every push of the walk
    }
    if name in json_bodies:
        body["data"] = json.dumps(json_bodies[name])
        headers["Content-Type"] = "application/json"
    return {"method": route.method, "path": url, "headers": headers, **body}


@pytest.fixture
async def world(aiohttp_client, tmp_path) -> World:
    settings = Settings(
        data_dir=tmp_path / "data",
        admin_password=ADMIN_PASSWORD,
        # The walk sends revoked credentials hundreds of times; throttling is tested elsewhere.
        login_failures_per_pair=10**6,
        login_failures_per_address=10**6,
        login_failures_per_account=10**6,
    ).resolve()
    hub = Hub(await aiohttp_client(create_app(settings)), settings)
    alice = await hub.add_user("alice")
    await hub.add_user("bob")
    await hub.add_user("victim")
    assert await push(hub.client, REPO, "v1", alice) == 201
    config = json.dumps({"architecture": "arm64", "os": "linux", "seed": "a"}).encode()
    manifest = image_manifest(config, [f"layer-a-{i}".encode() * 50 for i in range(2)])
    assert (
        await hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=alice)
    ).status == 201
    world = World(hub, alice, manifest, sha256(config), sha256(manifest))
    await world.restore_team()
    # The robot callers belong to `bots`, which the walk never removes (it removes `acme`).
    resp = await hub.client.post("/api/v1/orgs", json={"name": "bots"}, headers=alice)
    assert resp.status == 201
    await world.restore_repository_rule()
    await world.restore_namespace_rule()
    # A policy for the run route to run (dry: the walk changes no tag).
    resp = await hub.client.put(
        f"/api/v1/repositories/{REPO}/retention",
        json={"policy": {"keep_newest": 100}},
        headers=alice,
    )
    assert resp.status == 200, await resp.text()
    return world


async def callers(world: World) -> list[Caller]:
    hub, alice = world.hub, world.alice
    everything = "pull,push,delete,*"

    async def pat(scope: str) -> str:
        return (await hub.create_token(alice, scope))["token"]

    revoked = await hub.create_token(alice, "admin")
    resp = await hub.client.delete(f"/api/v1/user/tokens/{revoked['id']}", headers=alice)
    assert resp.status == 204
    # dave, an admin, takes a token for alice's repository; then dave is deleted, and a new
    # (ordinary) dave is created.
    dave = await hub.add_user("dave", admin=True)
    stale = await hub.token(
        dave, f"repository:{REPO}:{everything}", "registry:catalog:*", offline=True
    )
    assert (await hub.client.delete("/api/v1/users/dave", headers=ADMIN)).status == 204
    await hub.add_user("dave")
    refresh = (await hub.token(alice, offline=True))["refresh_token"]
    read_pat, write_pat = await pat("read"), await pat("write")
    resp = await hub.client.post(
        "/api/v1/orgs/bots/robots", json=robot_body("walk", org_wide=True), headers=alice
    )
    assert resp.status == 201, await resp.text()
    robot = (await resp.json())["secret"]
    robot_login = "robot$bots+walk"
    robot_token = await hub.bearer_for(
        basic(robot_login, robot), f"repository:bots/app:{everything}", "registry:catalog:*"
    )
    return [
        Caller("anonymous", {}, Credential.ANONYMOUS),
        Caller(
            "owner",
            alice,
            Credential.PASSWORD,
            user="alice",
            token_form={"grant_type": "password", "username": "alice", "password": PASSWORD},
            basic=True,
        ),
        Caller(
            "anonymous bearer",
            await hub.bearer_for(None, f"repository:{REPO}:pull", "registry:catalog:*"),
            Credential.BEARER,
            claims={"catalog": {"*"}},
        ),
        Caller(
            "another user",
            basic("bob", PASSWORD),
            Credential.PASSWORD,
            user="bob",
            token_form={"grant_type": "password", "username": "bob", "password": PASSWORD},
            basic=True,
        ),
        Caller(
            "read-only access token",
            basic("alice", read_pat),
            Credential.ACCESS_TOKEN,
            user="alice",
            scopes=frozenset({"read"}),
            token_form={"grant_type": "password", "username": "alice", "password": read_pat},
            basic=True,
        ),
        Caller(
            "write access token",
            basic("alice", write_pat),
            Credential.ACCESS_TOKEN,
            user="alice",
            scopes=frozenset({"write"}),
            token_form={"grant_type": "password", "username": "alice", "password": write_pat},
            basic=True,
        ),
        Caller(
            "bearer token for the repository",
            await hub.bearer_for(alice, f"repository:{REPO}:{everything}", "registry:catalog:*"),
            Credential.BEARER,
            user="alice",
            claims={REPO: set(ALL_ACTIONS), "catalog": {"*"}},
        ),
        Caller(
            "bearer token for another repository",
            await hub.bearer_for(alice, f"repository:alice/other:{everything}"),
            Credential.BEARER,
            user="alice",
            claims={"alice/other": set(ALL_ACTIONS)},
        ),
        Caller(
            "revoked access token",
            basic("alice", revoked["token"]),
            None,
            token_form={
                "grant_type": "password",
                "username": "alice",
                "password": revoked["token"],
            },
            basic=True,
        ),
        Caller(
            "deleted and recreated user's token",
            bearer(stale["token"]),
            None,
            token_form={"grant_type": "refresh_token", "refresh_token": stale["refresh_token"]},
        ),
        Caller(
            "refresh token",
            bearer(refresh),
            Credential.REFRESH,
            user="alice",
            token_form={"grant_type": "refresh_token", "refresh_token": refresh},
        ),
        Caller(
            "admin",
            ADMIN,
            Credential.PASSWORD,
            user="admin",
            admin=True,
            password=ADMIN_PASSWORD,
            token_form={"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD},
            basic=True,
        ),
        Caller(
            "robot account",
            basic(robot_login, robot),
            Credential.ROBOT,
            token_form={"grant_type": "password", "username": robot_login, "password": robot},
            basic=True,
            robot=True,
        ),
        Caller(
            "robot account's bearer token",
            robot_token,
            Credential.BEARER,
            claims={"bots/app": {"pull", "push", "delete"}, "catalog": {"*"}},
            robot=True,
        ),
    ]


def refused(rule: Rule, status: int) -> bool:
    return status in (401, 403) or (rule.hidden and status == 404)


# The only routes anyone may call without their credentials being read. The admission
# webhooks check their own token, when one is configured (tests/api/hub/test_admission_access.py).
OPEN_ROUTES = {
    "healthz", "readyz", "metrics", "v1-ping", "trust-health", "web-static",
    "admission-validate", "admission-mutate",
}
TOKEN_ROUTES = {"token-get", "token-post"}
ACCOUNT_PATH = re.compile(r"^/api/v1/(user|users|orgs|namespaces|audit)(/|$)")
# An organisation's public profile (its name) is anyone's to read, bearer tokens included;
# what each caller sees beyond it is checked in test_org_visibility.py.
PUBLIC_PROFILES = {"hub-org"}
SAFE = {"GET", "HEAD"}


def broken_invariants(route: web.AbstractRoute, path: str, caller: Caller, refusal: bool) -> str:
    """What no rule may allow, whatever it declares ("" when all hold)."""
    if route.name in OPEN_ROUTES or refusal:
        return ""
    if caller.kind in (None, Credential.REFRESH) and route.name not in TOKEN_ROUTES:
        return "an invalid credential (or a refresh token) was accepted"
    if route.name in TOKEN_ROUTES:
        return ""
    unsafe = route.method not in SAFE
    if (caller.kind is Credential.BEARER and ACCOUNT_PATH.match(path)
            and route.name not in PUBLIC_PROFILES):
        return "a registry bearer token acted on an account"
    if caller.robot and ACCOUNT_PATH.match(path) and route.name not in PUBLIC_PROFILES:
        return "a robot account acted on an account or an organisation"
    if caller.robot and unsafe and ("alice" in path or "acme" in path):
        return "a robot account of bots changed something outside bots"
    if unsafe and caller.kind is Credential.ANONYMOUS:
        return "an anonymous caller changed something"
    if unsafe and caller.scopes == frozenset({"read"}):
        return "a read-only access token changed something"
    if unsafe and caller.user == "bob" and ("alice" in path or "acme" in path):
        return "another user changed alice's things"
    return ""


WEB_PARAMS = {"repo": REPO, "reference": "v1", "org": "acme", "team": "devs",
              "token_id": "999999", "user": "victim", "robot": "ci", "rule_id": "1",
              "webhook_id": "1", "delivery_id": "1"}


async def web_mismatches(world: World, route: web.AbstractRoute, everyone: list) -> list[str]:
    """A page answers every API credential exactly as it answers an anonymous browser.

    Pages read only their session cookie (`registry.web.security`); who may see which page
    with a session is walked in tests/web/test_authorisation.py.
    """
    if route.name == STATIC_ROUTE:
        url = f"{STATIC_PREFIX}/berth.css"
    else:
        wanted = {k: WEB_PARAMS[k] for k in re.findall(r"\{(\w+)", route.resource.canonical)}
        url = str(route.resource.url_for(**wanted))
    client = world.hub.client

    async def status(headers: dict[str, str]) -> int:
        client.session.cookie_jar.clear()
        resp = await client.request(route.method, url, headers=headers, allow_redirects=False)
        await resp.read()
        assert resp.status < 500, (route.name, await resp.text())
        return resp.status

    anonymous = await status({})
    found = []
    for caller in everyone:
        seen = await status(dict(caller.headers))
        if seen != anonymous:
            found.append(f"{route.method} {route.name} as {caller.label}: {seen}, "
                         f"an anonymous browser gets {anonymous}")
    return found


async def test_every_route_enforces_its_rule_for_every_kind_of_caller(world):
    app = world.hub.client.app
    rules = app[RULES]
    everyone = await callers(world)
    routes = list(app.router.routes())
    assert len(routes) > 50
    assert {name for name, rule in rules.items() if rule.resource is Resource.OPEN} == OPEN_ROUTES
    mismatches = []
    walked = 0
    for route in routes:
        assert route.name in rules, f"{route.method} {route.resource.canonical} has no rule"
        rule = rules[route.name]
        if rule.resource is Resource.WEB or route.name == STATIC_ROUTE:
            mismatches += await web_mismatches(world, route, everyone)
            walked += len(everyone)
            continue
        for caller in everyone:
            request = request_for(world, route, caller)
            resp = await world.hub.client.request(**request)
            await resp.read()
            assert resp.status < 500, (route.name, caller.label, await resp.text())
            want = expected(rule, route.method, caller)
            seen = f"{route.method} {route.name} as {caller.label}: {resp.status}"
            if refused(rule, resp.status) == want:
                mismatches.append(
                    f"{seen}, rule {rule.describe()} says {'allow' * want or 'refuse'}"
                )
            broken = broken_invariants(route, request["path"], caller, refused(rule, resp.status))
            if broken:
                mismatches.append(f"{seen}: {broken}")
            if resp.status < 300 and route.name in RESTORE:
                await RESTORE[route.name](world)
            walked += 1
    assert not mismatches, "\n".join(mismatches)
    assert walked == len(routes) * len(everyone)


async def test_a_route_without_a_rule_stops_the_app_from_being_built(tmp_path):
    app = create_app(Settings(data_dir=tmp_path / "data").resolve())
    check_every_route_has_a_rule(app)

    async def handler(request: web.Request) -> web.Response:
        return web.Response()

    app.router.add_get("/api/v1/unruled", handler, name="unruled")
    with pytest.raises(MissingRuleError, match="unruled"):
        check_every_route_has_a_rule(app)
    app[RULES]["unruled"] = Rule.hub_admin()
    app.router.add_get("/api/v1/nameless", handler)
    with pytest.raises(MissingRuleError, match="nameless"):
        check_every_route_has_a_rule(app)
