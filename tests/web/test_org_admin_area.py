"""An organization's admin area: robots, immutable tags, retention, webhooks and quota pages.

Each page's action is checked through what a user of the hub then sees (a robot's secret logs
in, a rule shows in the Hub API, a dry run deletes nothing); who may call each route is in
`test_authorisation.py`, and an ordinary member of the organization is refused here.
"""

from __future__ import annotations

import asyncio
import re
import time

from tests.api.hub.conftest import ADMIN_PASSWORD, basic
from tests.api.hub.push import push

ORG = "acme"
_SECRET = re.compile(r'<code id="new-(?:robot|webhook)-secret">([^<]+)</code>')


async def _org_with_member(hub) -> None:
    """`acme`, owned by alice, with bob as an ordinary member of team devs."""
    assert (await hub.client.post("/api/v1/orgs", json={"name": ORG},
                                  headers=hub.alice)).status == 201
    assert (await hub.client.put(f"/api/v1/orgs/{ORG}/teams/devs",
                                 headers=hub.alice)).status == 201
    resp = await hub.client.put(f"/api/v1/orgs/{ORG}/teams/devs/members/bob", headers=hub.alice)
    assert resp.status in (200, 201, 204), await resp.text()


async def _owner(hub, browsers):
    await _org_with_member(hub)
    alice = browsers()
    await alice.sign_in("alice")
    return alice


async def test_a_robot_is_created_with_its_secret_shown_once_and_revoked(hub, browsers):
    alice = await _owner(hub, browsers)
    status, page, _ = await alice.submit(
        f"/orgs/{ORG}/robots",
        {"name": "ci", "repositories": "svc\napp-*", "actions": ["pull", "push"],
         "expires_days": "30", "description": "the build"},
        page=f"/orgs/{ORG}/robots",
    )
    assert status == 201, page
    secret = _SECRET.search(page).group(1)
    robot = basic(f"robot${ORG}+ci", secret)
    assert await push(hub.client, f"{ORG}/svc", "1", robot) == 201
    assert await push(hub.client, f"{ORG}/other", "1", robot) != 201

    status, page, _ = await alice.get(f"/orgs/{ORG}/robots")
    assert status == 200 and secret not in page
    row = page[page.index(f"robot${ORG}+ci"):]
    row = row[: row.index("</tr>")]
    assert "svc, app-*" in row and "pull, push" in row and "the build" in row
    assert "never" not in row  # its push was a use

    status, _, resp = await alice.submit(f"/orgs/{ORG}/robots/ci/revoke",
                                         page=f"/orgs/{ORG}/robots")
    assert status == 303 and resp.headers["Location"] == f"/orgs/{ORG}/robots"
    assert (await hub.client.get("/token", headers=robot)).status == 401
    assert f"robot${ORG}+ci" not in (await alice.get(f"/orgs/{ORG}/robots"))[1]


async def test_a_robot_form_with_bad_values_is_refused(hub, browsers):
    alice = await _owner(hub, browsers)
    for fields in (
        {"name": "ci", "repositories": "svc", "actions": "pull", "expires_days": "0"},
        {"name": "ci", "repositories": "svc", "actions": "fly", "expires_days": "3"},
        {"name": "ci", "repositories": "", "actions": "pull", "expires_days": "3"},
    ):
        status, page, _ = await alice.submit(f"/orgs/{ORG}/robots", fields,
                                             page=f"/orgs/{ORG}/robots")
        assert status == 400, (fields, page)
    assert "No robot accounts." in (await alice.get(f"/orgs/{ORG}/robots"))[1]


async def test_immutable_tag_rules_are_added_and_removed(hub, browsers):
    alice = await _owner(hub, browsers)
    status, _, _ = await alice.submit(f"/orgs/{ORG}/immutable-tags", {"pattern": "v*"},
                                      page=f"/orgs/{ORG}/immutable-tags")
    assert status == 303
    assert await push(hub.client, f"{ORG}/svc", "v1", hub.alice) == 201
    assert await push(hub.client, f"{ORG}/svc", "v1", hub.alice, seed="b") != 201
    body = await (await hub.client.get(f"/api/v1/namespaces/{ORG}/immutable-tags",
                                       headers=hub.alice)).json()
    [rule] = body["rules"]
    _, page, _ = await alice.get(f"/orgs/{ORG}/immutable-tags")
    assert "<code>v*</code>" in page
    status, _, _ = await alice.submit(f"/orgs/{ORG}/immutable-tags/{rule['id']}/remove",
                                      page=f"/orgs/{ORG}/immutable-tags")
    assert status == 303
    assert await push(hub.client, f"{ORG}/svc", "v1", hub.alice, seed="b") == 201
    assert "No rules." in (await alice.get(f"/orgs/{ORG}/immutable-tags"))[1]


async def test_retention_policy_is_set_and_a_dry_run_lists_what_would_go(hub, browsers):
    alice = await _owner(hub, browsers)
    for tag in ("old", "keep-me", "new"):  # pushed in this order: "new" is the newest
        assert await push(hub.client, f"{ORG}/svc", tag, hub.alice, seed=tag) == 201
    status, page, _ = await alice.submit(
        f"/orgs/{ORG}/retention", {"keep_newest": "1", "keep_matching": "keep-*"},
        page=f"/orgs/{ORG}/retention",
    )
    assert status == 303, page
    shown = await (await hub.client.get(f"/api/v1/namespaces/{ORG}/retention",
                                        headers=hub.alice)).json()
    assert shown["policy"] == {"keep_newest": 1, "keep_matching": ["keep-*"]}
    _, page, _ = await alice.get(f"/orgs/{ORG}/retention")
    assert 'value="1"' in page and "keep-*" in page

    status, page, _ = await alice.submit(f"/orgs/{ORG}/retention/dry-run",
                                         {"repository": "svc"}, page=f"/orgs/{ORG}/retention")
    assert status == 200, page
    would_go = re.findall(r"<li><code>([^<]+)</code></li>",
                          page[page.index('class="plain would-go"'):])
    assert would_go == ["old"]
    assert "dry run" in page[page.index('class="runs"'):]
    tags = await (await hub.client.get(f"/v2/{ORG}/svc/tags/list", headers=hub.alice)).json()
    assert sorted(tags["tags"]) == ["keep-me", "new", "old"]  # a dry run deletes nothing

    status, page, _ = await alice.submit(f"/orgs/{ORG}/retention", {"keep_newest": "x"},
                                         page=f"/orgs/{ORG}/retention")
    assert status == 400
    status, _, _ = await alice.submit(f"/orgs/{ORG}/retention", {"remove": "1"},
                                      page=f"/orgs/{ORG}/retention")
    assert status == 303
    assert "No retention policy" in (await alice.get(f"/orgs/{ORG}/retention"))[1]


async def test_a_dry_run_of_another_namespace_or_hidden_repository_is_refused(hub, browsers):
    alice = await _owner(hub, browsers)
    assert await push(hub.client, "bob/secret", "1", hub.bob) == 201
    await alice.submit(f"/orgs/{ORG}/retention", {"keep_newest": "1"},
                       page=f"/orgs/{ORG}/retention")
    for repository in ("missing", "../bob/secret"):
        status, _, _ = await alice.submit(f"/orgs/{ORG}/retention/dry-run",
                                          {"repository": repository},
                                          page=f"/orgs/{ORG}/retention")
        assert status == 404, repository


async def _deliveries_page(browser, hook_id: int, wanted: str) -> str:
    deadline = time.monotonic() + 20
    while True:
        _, page, _ = await browser.get(f"/orgs/{ORG}/webhooks/{hook_id}")
        if page.count(wanted) >= 1 or time.monotonic() > deadline:
            return page
        await asyncio.sleep(0.1)


async def test_a_webhook_is_created_with_its_secret_shown_once_and_logs_deliveries(
    hub, browsers
):
    alice = await _owner(hub, browsers)
    status, page, _ = await alice.submit(
        f"/orgs/{ORG}/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["push", "tag_delete"],
         "format": "cloudevents"},
        page=f"/orgs/{ORG}/webhooks",
    )
    assert status == 201, page
    secret = _SECRET.search(page).group(1)
    [hook] = (await (await hub.client.get(f"/api/v1/namespaces/{ORG}/webhooks",
                                          headers=hub.alice)).json())["webhooks"]
    assert hook["events"] == ["push", "tag_delete"] and hook["format"] == "cloudevents"
    _, page, _ = await alice.get(f"/orgs/{ORG}/webhooks")
    assert secret not in page and "http://127.0.0.1:9/hook" in page

    assert await push(hub.client, f"{ORG}/svc", "1", hub.alice) == 201
    page = await _deliveries_page(alice, hook["id"], "/redeliver")
    assert secret not in page and "<td>push " in page
    delivery = re.search(r"/deliveries/(\d+)/redeliver", page).group(1)
    status, _, resp = await alice.submit(
        f"/orgs/{ORG}/webhooks/{hook['id']}/deliveries/{delivery}/redeliver",
        page=f"/orgs/{ORG}/webhooks",
    )
    assert status == 303
    assert resp.headers["Location"] == f"/orgs/{ORG}/webhooks/{hook['id']}"
    _, page, _ = await alice.get(f"/orgs/{ORG}/webhooks/{hook['id']}")
    assert page.count("/redeliver") == 2  # the redelivery is a new delivery

    status, page, _ = await alice.get(f"/orgs/{ORG}/webhooks/{hook['id']}/delete")
    assert status == 200 and f"Delete webhook {hook['id']} of {ORG}?" in page
    status, _, _ = await alice.submit(f"/orgs/{ORG}/webhooks/{hook['id']}/delete",
                                      page=f"/orgs/{ORG}/webhooks")
    assert status == 303
    assert "No webhooks." in (await alice.get(f"/orgs/{ORG}/webhooks"))[1]
    assert (await alice.get(f"/orgs/{ORG}/webhooks/{hook['id']}"))[0] == 404


async def test_a_webhook_to_a_refused_address_is_not_created(hub, browsers):
    alice = await _owner(hub, browsers)
    status, _, _ = await alice.submit(f"/orgs/{ORG}/webhooks", {"url": "http://10.1.2.3/h"},
                                      page=f"/orgs/{ORG}/webhooks")
    assert status == 400
    assert "No webhooks." in (await alice.get(f"/orgs/{ORG}/webhooks"))[1]


async def test_owners_see_the_quota_and_only_admins_set_it(hub, browsers):
    alice = await _owner(hub, browsers)
    assert await push(hub.client, f"{ORG}/svc", "1", hub.alice) == 201
    _, page, _ = await alice.get(f"/orgs/{ORG}/quota")
    assert "<dt>Limit</dt><dd>none</dd>" in page and "Set quota" not in page
    assert "<dd>0 B</dd>" not in page  # the push counts
    status, _, _ = await alice.submit(f"/orgs/{ORG}/quota", {"limit_mb": "5"},
                                      page=f"/orgs/{ORG}/quota")
    assert status == 403

    admin = browsers()
    await admin.sign_in("admin", ADMIN_PASSWORD)
    status, _, _ = await admin.submit(f"/orgs/{ORG}/quota", {"limit_mb": "5"},
                                      page=f"/orgs/{ORG}/quota")
    assert status == 303
    shown = await (await hub.client.get(f"/api/v1/namespaces/{ORG}/quota",
                                        headers=hub.alice)).json()
    assert shown["limit_bytes"] == 5_000_000
    assert "5.0 MB" in (await alice.get(f"/orgs/{ORG}/quota"))[1]


ADMIN_AREA = [
    ("GET", "/robots", {}),
    ("POST", "/robots", {"name": "x", "repositories": "svc", "actions": "pull",
                         "expires_days": "3"}),
    ("POST", "/robots/ci/revoke", {}),
    ("GET", "/immutable-tags", {}),
    ("POST", "/immutable-tags", {"pattern": "v*"}),
    ("POST", "/immutable-tags/{rule}/remove", {}),
    ("GET", "/retention", {}),
    ("POST", "/retention", {"keep_newest": "1"}),
    ("POST", "/retention/dry-run", {"repository": "svc"}),
    ("GET", "/webhooks", {}),
    ("POST", "/webhooks", {"url": "http://127.0.0.1:9/x"}),
    ("GET", "/webhooks/{hook}", {}),
    ("GET", "/webhooks/{hook}/delete", {}),
    ("POST", "/webhooks/{hook}/delete", {}),
    ("GET", "/quota", {}),
    ("POST", "/quota", {"limit_mb": "1"}),
    ("GET", "/teams/devs/delete", {}),
]


async def test_a_member_and_a_stranger_are_refused_and_change_nothing(hub, browsers):
    await _org_with_member(hub)
    resp = await hub.client.post(f"/api/v1/orgs/{ORG}/robots", headers=hub.alice, json={
        "name": "ci", "repositories": ["svc"], "actions": ["pull"], "expires_in": 3600})
    assert resp.status == 201
    rule = await (await hub.client.post(f"/api/v1/namespaces/{ORG}/immutable-tags",
                                        json={"pattern": "r*"}, headers=hub.alice)).json()
    hook = await (await hub.client.post(f"/api/v1/namespaces/{ORG}/webhooks",
                                        json={"url": "http://127.0.0.1:9/h"},
                                        headers=hub.alice)).json()
    assert await push(hub.client, f"{ORG}/svc", "1", hub.alice) == 201
    await hub.add_user("carol")
    bob, carol, anonymous = browsers(), browsers(), browsers()
    await bob.sign_in("bob")  # a member of team devs
    await carol.sign_in("carol")  # no part of acme
    for browser, expected in ((bob, 403), (carol, 403), (anonymous, 303)):
        for method, path, fields in ADMIN_AREA:
            path = f"/orgs/{ORG}" + path.format(rule=rule["id"], hook=hook["id"])
            if method == "GET":
                status, text, _ = await browser.get(path)
            else:
                status, text, _ = await browser.submit(path, fields)
            assert status == expected, (method, path, text)
    listed = await (await hub.client.get(f"/api/v1/orgs/{ORG}/robots", headers=hub.alice)).json()
    assert [robot["name"] for robot in listed["robots"]] == ["ci"]
    hooks = await (await hub.client.get(f"/api/v1/namespaces/{ORG}/webhooks",
                                        headers=hub.alice)).json()
    assert [h["id"] for h in hooks["webhooks"]] == [hook["id"]]
    quota = await (await hub.client.get(f"/api/v1/namespaces/{ORG}/quota",
                                        headers=hub.alice)).json()
    assert quota["limit_bytes"] is None


async def test_admin_area_forms_without_the_csrf_token_are_refused(hub, browsers):
    alice = await _owner(hub, browsers)
    for path, fields in (
        ("/robots", {"name": "x", "repositories": "svc", "actions": "pull",
                     "expires_days": "3"}),
        ("/immutable-tags", {"pattern": "v*"}),
        ("/retention", {"keep_newest": "1"}),
        ("/webhooks", {"url": "http://127.0.0.1:9/x"}),
    ):
        status, _, _ = await alice.post(f"/orgs/{ORG}{path}", fields)
        assert status == 403, path
        status, _, _ = await alice.post(f"/orgs/{ORG}{path}", {**fields, "csrf_token": "forged"})
        assert status == 403, path
    _, page, _ = await alice.get(f"/orgs/{ORG}/robots")
    assert "No robot accounts." in page
    assert "No webhooks." in (await alice.get(f"/orgs/{ORG}/webhooks"))[1]
    assert "No rules." in (await alice.get(f"/orgs/{ORG}/immutable-tags"))[1]
    assert "No retention policy" in (await alice.get(f"/orgs/{ORG}/retention"))[1]


async def test_deleting_a_team_asks_first(hub, browsers):
    alice = await _owner(hub, browsers)
    _, page, _ = await alice.get(f"/orgs/{ORG}")
    assert f'href="/orgs/{ORG}/teams/devs/delete"' in page
    status, page, _ = await alice.get(f"/orgs/{ORG}/teams/devs/delete")
    assert status == 200 and f"Delete team devs of {ORG}?" in page
    assert "Team devs" in (await alice.get(f"/orgs/{ORG}"))[1]  # asking deleted nothing
    assert (await alice.get(f"/orgs/{ORG}/teams/ghost/delete"))[0] == 404
    status, _, _ = await alice.submit(f"/orgs/{ORG}/teams/devs/delete", page=f"/orgs/{ORG}")
    assert status == 303
    assert "Team devs" not in (await alice.get(f"/orgs/{ORG}"))[1]
