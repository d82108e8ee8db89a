"""Organizations, teams and grants, and the admin pages (users, audit log, garbage collection)."""

from __future__ import annotations

import re

import pytest

from registry.app import create_app
from registry.settings import Settings
from tests.api.hub.conftest import ADMIN, ADMIN_PASSWORD, PASSWORD, Hub, basic
from tests.api.hub.push import push
from tests.web.support import WebClient


async def test_an_owner_builds_a_team_that_may_push(hub, browsers):
    alice = browsers()
    await alice.sign_in("alice")
    status, _, resp = await alice.submit("/orgs", {"name": "acme"}, page="/orgs")
    assert status == 303 and resp.headers["Location"] == "/orgs/acme"
    for path, fields in (
        ("/orgs/acme/teams", {"team": "devs"}),
        ("/orgs/acme/teams/devs/members", {"user": "bob"}),
        ("/orgs/acme/teams/devs/grants", {"role": "write", "repository": "svc"}),
    ):
        status, text, _ = await alice.submit(path, fields, page="/orgs/acme")
        assert status == 303, (path, text)
    _, page, _ = await alice.get("/orgs/acme")
    team = page[page.index('id="team-devs"'):]
    assert "bob" in team and "write on acme/svc" in team
    assert await push(hub.client, "acme/svc", "1", hub.bob) == 201
    assert await push(hub.client, "acme/other", "1", hub.bob) != 201

    bob = browsers()
    await bob.sign_in("bob")
    _, page, _ = await bob.get("/orgs/acme")
    assert "Team devs" in page and "Add member" not in page  # members see, owners manage
    status, _, _ = await bob.submit("/orgs/acme/teams/devs/delete", page="/orgs/acme")
    assert status == 403

    status, _, _ = await alice.submit("/orgs/acme/teams/devs/members/bob/remove",
                                      page="/orgs/acme")
    assert status == 303
    assert await push(hub.client, "acme/svc", "2", hub.bob, seed="b") != 201


async def test_admin_creates_and_deletes_users_and_reads_the_audit_log(hub, browsers):
    admin = browsers()
    await admin.sign_in("admin", ADMIN_PASSWORD)
    status, _, _ = await admin.submit(
        "/admin/users", {"name": "carol", "password": PASSWORD}, page="/admin/users"
    )
    assert status == 303
    carol = basic("carol", PASSWORD)
    assert (await hub.client.get("/token", headers=carol)).status == 200
    carol_browser = browsers()
    await carol_browser.sign_in("carol")

    _, page, _ = await admin.get("/admin/audit?action=user-add")
    actions = set(re.findall(r"<td>(user-add|login|push)</td>", page))
    assert actions == {"user-add"}
    assert "<td>carol</td>" in page

    status, page, _ = await admin.get("/admin/users/carol/delete")
    assert status == 200 and "Delete user carol?" in page
    status, _, _ = await admin.submit("/admin/users/carol/delete", page="/admin/users")
    assert status == 303
    assert (await hub.client.get("/token", headers=carol)).status == 401
    assert (await carol_browser.get("/account/tokens"))[0] == 303  # her session ended too
    _, page, _ = await admin.get("/admin/audit")
    assert "user-rm" in page


@pytest.fixture
async def gc_hub(aiohttp_client, tmp_path) -> Hub:
    settings = Settings(
        data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD, gc_grace=0
    ).resolve()
    return Hub(await aiohttp_client(create_app(settings)), settings)


async def test_garbage_collection_dry_run_then_run(gc_hub):
    hub = gc_hub
    assert await push(hub.client, "admin/app", "1", ADMIN) == 201
    digest = (await hub.client.head(
        "/v2/admin/app/manifests/1",
        headers={**ADMIN, "Accept": "application/vnd.oci.image.manifest.v1+json"},
    )).headers["Docker-Content-Digest"]
    assert (await hub.client.delete("/v2/admin/app/manifests/1", headers=ADMIN)).status == 202
    admin = WebClient(hub.client)
    try:
        await admin.sign_in("admin", ADMIN_PASSWORD)
        status, page, _ = await admin.submit("/admin/gc", {"mode": "dry-run"}, page="/admin/gc")
        assert status == 200 and "Would remove (dry run)" in page
        assert "1 manifests" in page and digest[:19] in page
        by_digest = f"/v2/admin/app/manifests/{digest}"
        accept = {**ADMIN, "Accept": "application/vnd.oci.image.manifest.v1+json"}
        assert (await hub.client.get(by_digest, headers=accept)).status == 200
        status, page, _ = await admin.submit("/admin/gc", {"mode": "run"}, page="/admin/gc")
        assert status == 200 and "Removed" in page
        assert (await hub.client.get(by_digest, headers=accept)).status == 404
    finally:
        await admin.close()


async def test_health_page_shows_checks_and_no_secret(hub, browsers):
    admin = browsers()
    await admin.sign_in("admin", ADMIN_PASSWORD)
    status, page, _ = await admin.get("/admin/health")
    assert status == 200
    states = dict(re.findall(r"<td>(database|schema|storage)</td><td class=\"(\w+)\">", page))
    assert states == {"database": "ok", "schema": "ok", "storage": "ok"}
    dialect = "postgresql" if "postgresql" in (hub.settings.database_url or "") else "sqlite"
    assert f"<td>{dialect}, " in page and "<td>filesystem, " in page
    assert ADMIN_PASSWORD not in page
    secret = (hub.settings.data_dir / "trust-key-secret").read_text().strip()
    assert secret and secret not in page
