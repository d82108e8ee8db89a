"""The web interface's pages against an in-process hub: what a person sees and can do."""

from __future__ import annotations

import html
import re

from tests.api.hub.conftest import basic
from tests.web.support import push_image


async def test_explore_lists_what_v1_search_returns_in_the_same_order(hub, browsers):
    for name, _stars in (("alice/zeta-web", 0), ("alice/alpha-web", 0), ("library/web", 0)):
        await push_image(hub.client, name, "1", hub.admin, seed=name)
    await hub.client.put("/api/v1/repositories/alice/zeta-web/star", headers=hub.bob)
    expected = (await (await hub.client.get("/v1/search?q=web")).json())["results"]
    status, text, _ = await browsers().get("/?q=web")
    assert status == 200
    shown = re.findall(r'<h3><a href="/r/([^"]+)">', text)
    assert [n.removeprefix("library/") for n in shown] == [r["name"] for r in expected]
    assert shown[0] == "library/web"  # exact name first, then stars
    assert shown[1] == "alice/zeta-web"


async def test_explore_filters_official_and_starred(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    await push_image(hub.client, "library/base", "1", hub.admin)
    await push_image(hub.client, "alice/liked", "1", hub.alice)
    await hub.client.put("/api/v1/repositories/alice/liked/star", headers=hub.bob)
    browser = browsers()
    _, text, _ = await browser.get("/?official=1")
    assert re.findall(r'<h3><a href="/r/([^"]+)">', text) == ["library/base"]
    _, text, _ = await browser.get("/?starred=1")
    assert re.findall(r'<h3><a href="/r/([^"]+)">', text) == ["alice/liked"]


async def test_explore_paginates(hub, browsers):
    for i in range(27):
        await push_image(hub.client, f"alice/r{i:02}", "1", hub.alice, seed=str(i))
    browser = browsers()
    _, first, _ = await browser.get("/")
    _, second, _ = await browser.get("/?page=2")
    assert len(re.findall(r"<h3>", first)) == 25
    assert len(re.findall(r"<h3>", second)) == 2
    assert "Page 2 of 2" in second and 'rel="prev"' in second


async def test_repository_page_shows_readme_counts_tags_and_pull_lines(hub, browsers):
    digest = await push_image(hub.client, "alice/app", "1.0", hub.alice)
    await push_image(hub.client, "alice/app", "2.0", hub.alice, seed="b")
    await hub.client.patch(
        "/api/v1/repositories/alice/app",
        json={"description": "# App\n\nDoes **things**."},
        headers=hub.alice,
    )
    status, text, _ = await browsers().get("/r/alice/app")
    assert status == 200
    assert "<h2>App</h2>" in text and "<strong>things</strong>" in text
    assert 'id="visibility">Public<' in text
    host = hub.client.server.host + ":" + str(hub.client.server.port)
    assert f"docker pull {host}/alice/app:1.0" in text
    assert digest[:19] in text  # the short digest
    assert "linux/amd64" in text
    assert re.findall(r'/-/tags/([^"/]+)">', text) == ["2.0", "1.0"]  # newest first


async def test_tag_table_sorts_and_paginates(hub, browsers):
    for i in range(30):
        await push_image(hub.client, "alice/many", f"t{i:02}", hub.alice, seed="m")
    browser = browsers()
    _, text, _ = await browser.get("/r/alice/many?sort=name&order=asc")
    tags = re.findall(r'/-/tags/([^"/]+)">', text)
    assert tags == [f"t{i:02}" for i in range(25)]
    _, text, _ = await browser.get("/r/alice/many?sort=name&order=asc&page=2")
    assert re.findall(r'/-/tags/([^"/]+)">', text) == [f"t{i:02}" for i in range(25, 30)]
    _, text, _ = await browser.get("/r/alice/many?sort=name&order=desc")
    assert re.findall(r'/-/tags/([^"/]+)">', text)[0] == "t29"


async def test_tag_table_shows_when_each_tag_was_last_pulled(hub, browsers):
    await push_image(hub.client, "alice/app", "1.0", hub.alice, seed="a")
    await push_image(hub.client, "alice/app", "2.0", hub.alice, seed="b")
    resp = await hub.client.get("/v2/alice/app/manifests/1.0", headers=hub.alice)
    assert resp.status == 200
    browser = browsers()
    _, text, _ = await browser.get("/r/alice/app?sort=pulled&order=desc")
    assert '<th scope="col" aria-sort="descending">' in text and "Last pulled" in text
    rows = re.findall(r'/-/tags/([^"/]+)">.*?</tr>', text, re.S)
    assert rows == ["1.0", "2.0"]  # the pulled tag first
    cells = {
        tag: row for tag, row in re.findall(r'/-/tags/([^"/]+)">(.*?)</tr>', text, re.S)
    }
    assert "never" not in cells["1.0"] and " UTC</td>" in cells["1.0"]
    assert "<td>never</td>" in cells["2.0"]
    _, text, _ = await browser.get("/r/alice/app?sort=pulled&order=asc")
    assert re.findall(r'/-/tags/([^"/]+)">', text) == ["2.0", "1.0"]


async def test_tag_page_shows_layers_history_and_config(hub, browsers):
    digest = await push_image(hub.client, "alice/app", "1.0", hub.alice, seed="x")
    status, text, _ = await browsers().get("/r/alice/app/-/tags/1.0")
    assert status == 200
    text = html.unescape(text)
    assert digest in text
    assert "ADD rootfs-x.tar /" in text and "RUN make install-x" in text
    assert "ENV SEED" in text  # a step without a layer, listed apart
    for fact in ("/bin/app", "--serve x", "SEED=x", "8080/tcp", "org.example.seed=x"):
        assert fact in text
    assert "linux/amd64" in text
    assert "Artifact type" not in text  # a plain image is no artifact


async def test_tag_page_lists_referrers_as_a_tree(hub, browsers):
    import json

    from registry.oci import mediatypes as mt
    from tests.api.conftest import sha256
    from tests.web.support import push_blob

    subject = await push_image(hub.client, "alice/app", "1.0", hub.alice)
    empty = b"{}"
    await push_blob(hub.client, "alice/app", empty, hub.alice)

    async def refer(to: str, artifact_type: str) -> str:
        payload = json.dumps({
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": sha256(empty), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.empty.v1+json",
                        "digest": sha256(empty), "size": 2}],
            "subject": {"mediaType": mt.OCI_MANIFEST, "digest": to, "size": 1},
        }).encode()
        digest = sha256(payload)
        resp = await hub.client.put(
            f"/v2/alice/app/manifests/{digest}", data=payload,
            headers={**hub.alice, "Content-Type": mt.OCI_MANIFEST},
        )
        assert resp.status == 201, await resp.text()
        return digest

    sbom = await refer(subject, "application/spdx+json")
    signature = await refer(sbom, "application/vnd.dev.cosign.artifact.sig.v1+json")
    _, text, _ = await browsers().get("/r/alice/app/-/tags/1.0")
    section = text[text.index('id="referrers-heading"'):]
    assert "application/spdx+json" in section
    # The signature of the SBOM is nested under it.
    nested = section[section.index(sbom[:19]):]
    assert nested.index(signature[:19]) < nested.index("</ul>")


async def test_index_tag_page_lists_every_platform(hub, browsers):
    import json

    from registry.oci import mediatypes as mt
    from tests.api.conftest import sha256

    amd = await push_image(hub.client, "alice/multi", "amd", hub.alice, seed="amd")
    index = json.dumps({
        "schemaVersion": 2, "mediaType": mt.OCI_INDEX,
        "manifests": [{"mediaType": mt.OCI_MANIFEST, "digest": amd, "size": 100,
                       "platform": {"os": "linux", "architecture": "amd64"}}],
    }).encode()
    resp = await hub.client.put("/v2/alice/multi/manifests/all", data=index,
                                headers={**hub.alice, "Content-Type": mt.OCI_INDEX})
    assert resp.status == 201
    _, text, _ = await browsers().get("/r/alice/multi/-/tags/all")
    assert 'id="platforms-heading"' in text and "linux/amd64" in text
    assert f"/r/alice/multi/-/tags/{amd}" in text
    status, text, _ = await browsers().get(f"/r/alice/multi/-/tags/{sha256(index)}")
    assert status == 200
    status, text, _ = await browsers().get(f"/r/alice/multi/-/tags/{amd}")
    assert status == 200 and "RUN make install-amd" in html.unescape(text)


async def test_sign_in_and_out(hub, browsers):
    browser = browsers()
    status, _, resp = await browser.get("/account/tokens")
    assert status == 303 and resp.headers["Location"].startswith("/login?next=")
    status, text, _ = await browser.submit("/login", {"username": "alice", "password": "wrong"})
    assert status == 401 and "Incorrect user name or password" in text
    await browser.sign_in("alice")
    status, text, _ = await browser.get("/account/tokens")
    assert status == 200 and "Sign out alice" in text
    status, _, resp = await browser.submit("/logout", page="/account/tokens")
    assert status == 303
    status, _, _ = await browser.get("/account/tokens")
    assert status == 303


async def test_create_token_shows_it_once_and_revoking_it_ends_logins(hub, browsers):
    browser = browsers()
    await browser.sign_in("alice")
    status, text, _ = await browser.submit(
        "/account/tokens", {"name": "laptop", "scopes": "write"}, page="/account/tokens"
    )
    assert status == 201
    secret = re.search(r'id="new-token">([^<]+)<', text).group(1)
    assert (await hub.client.get("/token", headers=basic("alice", secret))).status == 200
    _, listing, _ = await browser.get("/account/tokens")
    assert secret not in listing and "laptop" in listing
    token_id = re.search(r"/account/tokens/(\d+)/revoke", listing).group(1)
    status, _, _ = await browser.submit(
        f"/account/tokens/{token_id}/revoke", page="/account/tokens"
    )
    assert status == 303
    assert (await hub.client.get("/token", headers=basic("alice", secret))).status == 401
    _, listing, _ = await browser.get("/account/tokens")
    assert "revoked" in listing


async def test_token_table_shows_each_tokens_expiry(hub, browsers):
    browser = browsers()
    await browser.sign_in("alice")
    _, page, _ = await browser.get("/account/tokens")
    assert '<option value="90" selected>' in page
    for name, days in (("month", "30"), ("forever", "")):
        status, text, _ = await browser.submit(
            "/account/tokens", {"name": name, "scopes": "read", "expires_days": days},
            page="/account/tokens",
        )
        assert status == 201, text
    listed = await (await hub.client.get("/api/v1/user/tokens", headers=hub.alice)).json()
    expiry = {token["name"]: token["expires"] for token in listed["tokens"]}
    assert expiry["forever"] is None
    month = expiry["month"][:10]  # within the day 30 days from now
    _, page, _ = await browser.get("/account/tokens")
    assert "<th scope=\"col\">Expires</th>" in page
    row = page[page.index("<td>month</td>"):]
    assert f"<td>{month} " in row[: row.index("</tr>")]
    row = page[page.index("<td>forever</td>"):]
    assert "<td>never</td>" in row[: row.index("</tr>")]
    status, _, _ = await browser.submit(
        "/account/tokens", {"name": "x", "scopes": "read", "expires_days": "soon"},
        page="/account/tokens",
    )
    assert status == 400


async def test_access_token_does_not_open_a_session(hub, browsers):
    token = (await hub.create_token(hub.alice, "admin"))["token"]
    browser = browsers()
    status, text, _ = await browser.submit("/login", {"username": "alice", "password": token})
    assert status == 401 and "access tokens are for clients" in text


async def test_my_repositories_and_stars(hub, browsers):
    await push_image(hub.client, "alice/mine", "1", hub.alice)
    await push_image(hub.client, "bob/theirs", "1", hub.bob)
    browser = browsers()
    await browser.sign_in("alice")
    _, text, _ = await browser.get("/account/repositories")
    assert "alice/mine" in text and "bob/theirs" not in text
    status, _, _ = await browser.submit("/r/bob/theirs/-/star", {"starred": "1"}, page="/")
    assert status == 303
    _, text, _ = await browser.get("/account/stars")
    assert "bob/theirs" in text and "alice/mine" not in text
    _, text, _ = await browser.get("/r/bob/theirs")
    assert 'id="stars">1 stars' in text and ">Unstar<" in text


async def test_make_private_then_anonymous_and_others_get_not_found(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    owner, other, anonymous = browsers(), browsers(), browsers()
    await owner.sign_in("alice")
    await other.sign_in("bob")
    status, _, _ = await owner.submit(
        "/r/alice/app/-/settings/visibility",
        {"visibility": "private"},
        page="/r/alice/app/-/settings",
    )
    assert status == 303
    _, text, _ = await owner.get("/r/alice/app")
    assert 'id="visibility">Private<' in text
    for browser in (other, anonymous):
        status, page, _ = await browser.get("/r/alice/app")
        _, missing, _ = await browser.get("/r/alice/nothing-here")
        # The same page, but for the path asked for (the sign-in link returns there).
        assert status == 404
        shown = page.replace("/r/alice/app", "PATH")
        assert shown == missing.replace("/r/alice/nothing-here", "PATH")
        _, listing, _ = await browser.get("/?q=app")
        assert "alice/app" not in listing


async def test_delete_tag_after_confirmation(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    await push_image(hub.client, "alice/app", "2", hub.alice, seed="b")
    browser = browsers()
    await browser.sign_in("alice")
    status, text, _ = await browser.get("/r/alice/app/-/tags/1/delete")
    assert status == 200 and "Delete tag alice/app:1?" in text
    status, _, _ = await browser.submit(
        "/r/alice/app/-/tags/1/delete", page="/r/alice/app/-/tags/1/delete"
    )
    assert status == 303
    assert (await hub.client.get("/v2/alice/app/manifests/1", headers=hub.alice)).status == 404
    _, text, _ = await browser.get("/r/alice/app")
    assert re.findall(r'/-/tags/([^"/]+)">', text) == ["2"]


async def test_describe_and_delete_repository(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    browser = browsers()
    await browser.sign_in("alice")
    status, _, _ = await browser.submit(
        "/r/alice/app/-/settings/description",
        {"description": "Short line\n\nMore text."},
        page="/r/alice/app/-/settings",
    )
    assert status == 303
    info = await (await hub.client.get("/api/v1/repositories/alice/app", headers=hub.alice)).json()
    assert info["description"] == "Short line\n\nMore text."
    status, text, _ = await browser.get("/r/alice/app/-/delete")
    assert status == 200 and "cannot be undone" in text
    status, _, _resp = await browser.submit("/r/alice/app/-/delete", page="/r/alice/app/-/delete")
    assert status == 303
    assert (await hub.client.get("/api/v1/repositories/alice/app", headers=hub.alice)).status == 404


async def test_the_readme_is_its_own_field_beside_the_short_description(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    browser = browsers()
    await browser.sign_in("alice")
    _, text, _ = await browser.get("/r/alice/app/-/settings")
    assert 'name="description"' in text and 'name="full_description"' in text
    status, _, _ = await browser.submit(
        "/r/alice/app/-/settings/description",
        {"description": "A tiny app", "full_description": "# Usage\n\nRun **it**."},
        page="/r/alice/app/-/settings",
    )
    assert status == 303
    _, text, _ = await browser.get("/r/alice/app")
    assert '<p class="summary" id="summary">A tiny app</p>' in text
    assert "<h2>Usage</h2>\n<p>Run <strong>it</strong>.</p>" in text
    # Search and listings show the short description only.
    _, listing, _ = await browser.get("/account/repositories")
    assert "A tiny app" in listing and "Usage" not in listing
    status, _, _ = await browser.submit(
        "/r/alice/app/-/settings/description",
        {"description": "x" * 101, "full_description": ""},
        page="/r/alice/app/-/settings",
    )
    assert status == 400


async def test_static_assets_are_served_by_the_hub(hub, browsers):
    browser = browsers()
    _, text, _ = await browser.get("/")
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', text)
    assert {link.split("?")[0] for link in links} == {"/static/berth.css", "/static/berth.js"}
    for link in links:
        status, _, resp = await browser.get(link)
        assert status == 200
        assert "Content-Security-Policy" in resp.headers
    assert not re.search(r'(?:href|src)="(?:https?:)?//', text)  # nothing from elsewhere


async def test_owner_requires_content_trust_from_the_settings_page(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    browser = browsers()
    await browser.sign_in("alice")
    _, page, _ = await browser.get("/r/alice/app/-/settings")
    assert 'id="trust-inherit" name="trust" value="inherit" checked' in page
    status, _, _ = await browser.submit(
        "/r/alice/app/-/settings/trust", {"trust": "on"}, page="/r/alice/app/-/settings"
    )
    assert status == 303
    info = await (await hub.client.get("/api/v1/repositories/alice/app")).json()
    assert info["trust_required"] is True and info["trust_required_setting"] == "on"
    pulled = await hub.client.get(
        "/v2/alice/app/manifests/1",
        headers={**hub.alice, "Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    assert pulled.status == 403  # the gate now refuses the unsigned tag
    _, page, _ = await browser.get("/r/alice/app")
    assert "Content trust required" in page


async def test_controls_show_only_to_those_who_may_use_them(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    owner, other = browsers(), browsers()
    await owner.sign_in("alice")
    await other.sign_in("bob")
    _, page, _ = await owner.get("/r/alice/app")
    assert 'href="/r/alice/app/-/settings"' in page
    _, page, _ = await owner.get("/r/alice/app/-/tags/1")
    assert 'href="/r/alice/app/-/tags/1/delete"' in page
    _, page, _ = await other.get("/r/alice/app")
    assert "/-/settings" not in page and ">Star<" in page
    _, page, _ = await other.get("/r/alice/app/-/tags/1")
    assert "/delete" not in page


async def test_signing_in_again_replaces_the_session(hub, browsers):
    browser = browsers()
    await browser.sign_in("alice")
    first = next(c for c in browser.session.cookie_jar if c.key == "berth_session").value
    await browser.sign_in("alice")
    second = next(c for c in browser.session.cookie_jar if c.key == "berth_session").value
    assert first != second
    replay = browsers()
    replay.session.cookie_jar.update_cookies({"berth_session": first})
    assert (await replay.get("/account/tokens"))[0] == 303
