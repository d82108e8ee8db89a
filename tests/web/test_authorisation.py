"""Every web route, called by an anonymous browser, another user and the owner.

The expectations are written out per route, and a test fails when a route of the table has
none, so a new page cannot go in without saying who may see it.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from registry.web.routes import WEB_ROUTES, Audience
from tests.api.hub.conftest import basic
from tests.web.support import push_image

PRIVATE, PUBLIC = "alice/app", "alice/open"

# name -> (method, path, form fields, status for anonymous, for bob, for alice) on the private
# repository; destructive routes come last, in the order the owner may run them.
PRIVATE_CASES: dict[str, tuple[str, str, dict, int, int, int]] = {
    "web-explore": ("GET", "/", {}, 200, 200, 200),
    "web-login-form": ("GET", "/login", {}, 200, 200, 200),
    "web-login": ("POST", "/login", {"username": "nobody", "password": "wrong-pw"}, 401, 401, 401),
    "web-my-repos": ("GET", "/account/repositories", {}, 303, 200, 200),
    "web-my-stars": ("GET", "/account/stars", {}, 303, 200, 200),
    "web-tokens": ("GET", "/account/tokens", {}, 303, 200, 200),
    "web-token-add": ("POST", "/account/tokens", {"name": "t", "scopes": "read"}, 303, 201, 201),
    "web-token-revoke": ("POST", "/account/tokens/{token}/revoke", {}, 303, 303, 303),
    "web-orgs": ("GET", "/orgs", {}, 303, 200, 200),
    "web-org-add": ("POST", "/orgs", {"name": "org-{who}"}, 303, 303, 303),
    "web-org": ("GET", "/orgs/acme", {}, 303, 200, 200),
    "web-team-add": ("POST", "/orgs/acme/teams", {"team": "t-{who}"}, 303, 403, 303),
    "web-member-add": ("POST", "/orgs/acme/teams/devs/members", {"user": "bob"}, 303, 403, 303),
    "web-grant-put": ("POST", "/orgs/acme/teams/devs/grants", {"role": "read"}, 303, 403, 303),
    "web-grant-rm": ("POST", "/orgs/acme/teams/devs/grants/remove", {}, 303, 403, 303),
    "web-robots": ("GET", "/orgs/acme/robots", {}, 303, 403, 200),
    "web-robot-add": ("POST", "/orgs/acme/robots",
                      {"name": "r-{who}", "repositories": "app", "actions": "pull",
                       "expires_days": "3"}, 303, 403, 201),
    "web-robot-rm": ("POST", "/orgs/acme/robots/ci/revoke", {}, 303, 403, 303),
    "web-immutable": ("GET", "/orgs/acme/immutable-tags", {}, 303, 403, 200),
    "web-immutable-add": ("POST", "/orgs/acme/immutable-tags", {"pattern": "v-{who}*"},
                          303, 403, 303),
    "web-immutable-rm": ("POST", "/orgs/acme/immutable-tags/{rule}/remove", {}, 303, 403, 303),
    "web-retention": ("GET", "/orgs/acme/retention", {}, 303, 403, 200),
    "web-retention-set": ("POST", "/orgs/acme/retention", {"keep_newest": "3"}, 303, 403, 303),
    "web-retention-dry-run": ("POST", "/orgs/acme/retention/dry-run", {"repository": "svc"},
                              303, 403, 200),
    "web-webhooks": ("GET", "/orgs/acme/webhooks", {}, 303, 403, 200),
    "web-webhook-add": ("POST", "/orgs/acme/webhooks", {"url": "http://127.0.0.1:9/{who}"},
                        303, 403, 201),
    "web-webhook": ("GET", "/orgs/acme/webhooks/{hook}", {}, 303, 403, 200),
    "web-webhook-redeliver": ("POST", "/orgs/acme/webhooks/{hook}/deliveries/{delivery}/redeliver",
                              {}, 303, 403, 303),
    "web-webhook-rm-form": ("GET", "/orgs/acme/webhooks/{hook}/delete", {}, 303, 403, 200),
    "web-webhook-rm": ("POST", "/orgs/acme/webhooks/{hook}/delete", {}, 303, 403, 303),
    "web-quota": ("GET", "/orgs/acme/quota", {}, 303, 403, 200),
    "web-quota-set": ("POST", "/orgs/acme/quota", {"limit_mb": "9"}, 303, 403, 403),
    "web-member-rm": ("POST", "/orgs/acme/teams/devs/members/bob/remove", {}, 303, 403, 303),
    "web-team-rm-form": ("GET", "/orgs/acme/teams/devs/delete", {}, 303, 403, 200),
    "web-team-rm": ("POST", "/orgs/acme/teams/devs/delete", {}, 303, 403, 303),
    "web-admin-users": ("GET", "/admin/users", {}, 303, 403, 403),
    "web-admin-user-add": ("POST", "/admin/users", {"name": "carol", "password": "long-enough"},
                           303, 403, 403),
    "web-admin-user-rm-form": ("GET", "/admin/users/bob/delete", {}, 303, 403, 403),
    "web-admin-user-rm": ("POST", "/admin/users/bob/delete", {}, 303, 403, 403),
    "web-admin-audit": ("GET", "/admin/audit", {}, 303, 403, 403),
    "web-admin-health": ("GET", "/admin/health", {}, 303, 403, 403),
    "web-admin-gc": ("GET", "/admin/gc", {}, 303, 403, 403),
    "web-admin-gc-run": ("POST", "/admin/gc", {"mode": "run"}, 303, 403, 403),
    "web-repository": ("GET", f"/r/{PRIVATE}", {}, 404, 404, 200),
    "web-tag": ("GET", f"/r/{PRIVATE}/-/tags/1", {}, 404, 404, 200),
    "web-files": ("GET", f"/r/{PRIVATE}/-/tags/1/files?path=/", {}, 404, 404, 200),
    "web-star": ("POST", f"/r/{PRIVATE}/-/star", {"starred": "1"}, 404, 404, 303),
    "web-settings": ("GET", f"/r/{PRIVATE}/-/settings", {}, 404, 404, 200),
    "web-description": ("POST", f"/r/{PRIVATE}/-/settings/description",
                        {"description": "d"}, 404, 404, 303),
    "web-visibility": ("POST", f"/r/{PRIVATE}/-/settings/visibility",
                       {"visibility": "private"}, 404, 404, 303),
    "web-trust-required": ("POST", f"/r/{PRIVATE}/-/settings/trust", {"trust": "off"},
                           404, 404, 303),
    "web-tag-delete-form": ("GET", f"/r/{PRIVATE}/-/tags/1/delete", {}, 404, 404, 200),
    "web-tag-delete": ("POST", f"/r/{PRIVATE}/-/tags/1/delete", {}, 404, 404, 303),
    "web-repo-delete-form": ("GET", f"/r/{PRIVATE}/-/delete", {}, 404, 404, 200),
    "web-repo-delete": ("POST", f"/r/{PRIVATE}/-/delete", {}, 404, 404, 303),
    "web-logout": ("POST", "/logout", {}, 303, 303, 303),
}

# On a public repository everyone may pull; the rest needs the owner's actions. Anonymous
# browsers are sent to sign in (GET) or refused (POST); another user is refused.
PUBLIC_CASES: dict[str, tuple[str, str, dict, int, int]] = {
    "web-repository": ("GET", f"/r/{PUBLIC}", {}, 200, 200),
    "web-tag": ("GET", f"/r/{PUBLIC}/-/tags/1", {}, 200, 200),
    "web-files": ("GET", f"/r/{PUBLIC}/-/tags/1/files", {}, 200, 200),
    "web-star": ("POST", f"/r/{PUBLIC}/-/star", {"starred": "1"}, 303, 303),
    "web-settings": ("GET", f"/r/{PUBLIC}/-/settings", {}, 303, 403),
    "web-description": ("POST", f"/r/{PUBLIC}/-/settings/description", {"description": "x"},
                        401, 403),
    "web-visibility": ("POST", f"/r/{PUBLIC}/-/settings/visibility", {"visibility": "private"},
                       401, 403),
    "web-trust-required": ("POST", f"/r/{PUBLIC}/-/settings/trust", {"trust": "on"}, 401, 403),
    "web-tag-delete-form": ("GET", f"/r/{PUBLIC}/-/tags/1/delete", {}, 303, 403),
    "web-tag-delete": ("POST", f"/r/{PUBLIC}/-/tags/1/delete", {}, 401, 403),
    "web-repo-delete-form": ("GET", f"/r/{PUBLIC}/-/delete", {}, 303, 403),
    "web-repo-delete": ("POST", f"/r/{PUBLIC}/-/delete", {}, 401, 403),
}


def test_every_web_route_has_expectations():
    names = {route.name for route in WEB_ROUTES}
    assert names == set(PRIVATE_CASES)
    repository_routes = {r.name for r in WEB_ROUTES if r.audience.repository_actions}
    assert repository_routes == set(PUBLIC_CASES)
    admin_routes = {r.name for r in WEB_ROUTES if r.audience is Audience.ADMIN}
    assert admin_routes == set(ADMIN_CASES)


def test_every_route_declares_who_may_call_it():
    for route in WEB_ROUTES:
        assert isinstance(route.audience, Audience), route.name


async def _acme_admin_area(hub) -> dict[str, int]:
    """A robot `ci`, an immutability rule, and a webhook with one delivery in `acme`: the ids
    the admin area's paths name."""
    headers = hub.alice
    resp = await hub.client.post("/api/v1/orgs/acme/robots", headers=headers, json={
        "name": "ci", "repositories": ["app"], "actions": ["pull"], "expires_in": 3600})
    assert resp.status == 201, await resp.text()
    rule = await (await hub.client.post("/api/v1/namespaces/acme/immutable-tags",
                                        json={"pattern": "r*"}, headers=headers)).json()
    hook = await (await hub.client.post("/api/v1/namespaces/acme/webhooks",
                                        json={"url": "http://127.0.0.1:9/h"},
                                        headers=headers)).json()
    await push_image(hub.client, "acme/svc", "1", headers)
    deliveries = f"/api/v1/namespaces/acme/webhooks/{hook['id']}/deliveries"
    deadline = time.monotonic() + 20
    while not (found := (await (await hub.client.get(deliveries, headers=headers)).json())[
        "deliveries"
    ]):
        assert time.monotonic() < deadline, "the push made no webhook delivery"
        await asyncio.sleep(0.05)
    return {"rule": rule["id"], "hook": hook["id"], "delivery": found[0]["id"]}


async def _call(browser, method, path, fields, who=""):
    if method == "GET":
        return await browser.get(path)
    token = await browser.csrf("/login")
    fields = {key: value.format(who=who) for key, value in fields.items()}
    return await browser.post(path, {"csrf_token": token, **fields})


async def test_private_repository_routes_for_anonymous_other_and_owner(hub, browsers):
    await push_image(hub.client, PRIVATE, "1", hub.alice, public=False)
    alice_token = (await hub.create_token(hub.alice, "read"))
    assert (await hub.client.post("/api/v1/orgs", json={"name": "acme"},
                                  headers=hub.alice)).status == 201
    assert (await hub.client.put("/api/v1/orgs/acme/teams/devs", headers=hub.alice)).status == 201
    ids = await _acme_admin_area(hub)
    anonymous, bob, alice = browsers(), browsers(), browsers()
    await bob.sign_in("bob")
    await alice.sign_in("alice")
    for index, browser in enumerate((anonymous, bob, alice)):
        if browser is alice:
            # Bob's revoke attempt left alice's token alone.
            resp = await hub.client.get("/token", headers={
                "Authorization": "Basic " + __import__("base64").b64encode(
                    f"alice:{alice_token['token']}".encode()).decode()})
            assert resp.status == 200
        for name, (method, path, fields, *expected) in PRIVATE_CASES.items():
            path = path.format(token=alice_token["id"], **ids)
            who = ("anonymous", "bob", "alice")[index]
            status, text, _ = await _call(browser, method, path, fields, who)
            assert status == expected[index], (name, who, text)
    # The refused admin calls changed nothing: bob is there, carol is not.
    assert (await hub.client.get("/token", headers=hub.bob)).status == 200
    carol = basic("carol", "long-enough")
    assert (await hub.client.get("/token", headers=carol)).status == 401


async def test_public_repository_routes_for_anonymous_and_other(hub, browsers):
    await push_image(hub.client, PUBLIC, "1", hub.alice)
    anonymous, bob = browsers(), browsers()
    await bob.sign_in("bob")
    for index, browser in enumerate((anonymous, bob)):
        for name, (method, path, fields, *expected) in PUBLIC_CASES.items():
            status, text, _ = await _call(browser, method, path, fields)
            assert status == expected[index], (name, ("anonymous", "bob")[index], text)
    # Nothing changed: the tag, the description and the visibility are as pushed.
    info = await (await hub.client.get(f"/api/v1/repositories/{PUBLIC}")).json()
    assert info["is_public"] and info["description"] == ""
    assert info["trust_required_setting"] == "inherit"
    assert (await hub.client.get(f"/v2/{PUBLIC}/manifests/1", headers=hub.alice)).status == 200


ADMIN_CASES: dict[str, tuple[str, str, dict, int]] = {
    "web-admin-users": ("GET", "/admin/users", {}, 200),
    "web-admin-user-add": ("POST", "/admin/users", {"name": "carol", "password": "long-enough"},
                           303),
    "web-admin-user-rm-form": ("GET", "/admin/users/carol/delete", {}, 200),
    "web-admin-user-rm": ("POST", "/admin/users/carol/delete", {}, 303),
    "web-admin-audit": ("GET", "/admin/audit", {}, 200),
    "web-admin-health": ("GET", "/admin/health", {}, 200),
    "web-admin-gc": ("GET", "/admin/gc", {}, 200),
    "web-admin-gc-run": ("POST", "/admin/gc", {"mode": "dry-run"}, 200),
    "web-quota-set": ("POST", "/orgs/alice/quota", {"limit_mb": "9"}, 303),
}


async def test_admin_routes_for_an_admin(hub, browsers):
    from tests.api.hub.conftest import ADMIN_PASSWORD

    admin = browsers()
    await admin.sign_in("admin", ADMIN_PASSWORD)
    for name, (method, path, fields, expected) in ADMIN_CASES.items():
        status, text, _ = await _call(admin, method, path, fields)
        assert status == expected, (name, text)


@pytest.mark.parametrize(
    "path",
    [
        "/r/alice/app",
        "/r/alice/app/-/tags/1",
        "/r/alice/app/-/tags/1/files",
        "/r/alice/app/-/settings",
    ],
)
async def test_private_and_missing_look_the_same(hub, browsers, path):
    await push_image(hub.client, PRIVATE, "1", hub.alice, public=False)
    bob = browsers()
    await bob.sign_in("bob")
    for browser in (browsers(), bob):
        status, private, _ = await browser.get(path)
        missing_path = path.replace("alice/app", "alice/ghost")
        missing_status, missing, _ = await browser.get(missing_path)
        assert status == missing_status == 404
        assert private.replace(path, "P") == missing.replace(missing_path, "P")


async def test_team_write_role_may_describe_but_not_change_visibility(hub, browsers):
    resp = await hub.client.post("/api/v1/orgs", json={"name": "acme"}, headers=hub.alice)
    assert resp.status == 201, await resp.text()
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs", json={}, headers=hub.alice)
    assert resp.status in (200, 201, 204), await resp.text()
    await hub.client.put("/api/v1/orgs/acme/teams/devs/members/bob", headers=hub.alice)
    resp = await hub.client.put("/api/v1/orgs/acme/teams/devs/grants",
                                json={"role": "write"}, headers=hub.alice)
    assert resp.status in (200, 204), await resp.text()
    await push_image(hub.client, "acme/svc", "1", hub.alice, public=False)
    bob = browsers()
    await bob.sign_in("bob")
    assert (await bob.get("/r/acme/svc/-/settings"))[0] == 200
    status, _, _ = await bob.submit("/r/acme/svc/-/settings/description", {"description": "hi"},
                                    page="/r/acme/svc/-/settings")
    assert status == 303
    status, _, _ = await bob.submit("/r/acme/svc/-/settings/visibility",
                                    {"visibility": "public"}, page="/r/acme/svc/-/settings")
    assert status == 403
    assert (await bob.get("/r/acme/svc/-/delete"))[0] == 403
