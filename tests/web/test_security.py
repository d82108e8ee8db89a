"""Security of the web interface: CSRF, cookies, sessions that end at once, inert READMEs,
the content security policy and sign-in throttling shared with the token endpoint."""

from __future__ import annotations

import re

from registry.web.markdown import render_markdown
from tests.web.support import PASSWORD, push_image


async def test_form_without_or_with_a_wrong_csrf_token_is_refused(hub, browsers):
    browser = browsers()
    await browser.sign_in("alice")
    fields = {"name": "sneaky", "scopes": "admin"}
    status, text, _ = await browser.post("/account/tokens", fields)
    assert status == 403 and "reload and retry" in text
    status, _, _ = await browser.post("/account/tokens", {**fields, "csrf_token": "x" * 43})
    assert status == 403
    token = await browser.csrf("/account/tokens")
    status, _, _ = await browser.post(
        "/account/tokens", {**fields, "csrf_token": token},
        headers={"Origin": "http://evil.example"},
    )
    assert status == 403
    _, listing, _ = await browser.get("/account/tokens")
    assert "sneaky" not in listing
    status, _, _ = await browser.post("/account/tokens", {**fields, "csrf_token": token})
    assert status == 201  # the same form with the token goes through


async def test_sign_in_form_needs_the_csrf_token_too(hub, browsers):
    browser = browsers()
    status, _, resp = await browser.post("/login", {"username": "alice", "password": PASSWORD})
    assert status == 403
    assert "berth_session" not in resp.cookies


async def test_cookies_are_http_only_and_same_site(hub, browsers):
    browser = browsers()
    token = await browser.csrf()
    status, _, resp = await browser.post(
        "/login", {"csrf_token": token, "username": "alice", "password": PASSWORD}
    )
    assert status == 303
    session, csrf = resp.cookies["berth_session"], resp.cookies["berth_csrf"]
    assert session["httponly"] and session["samesite"] == "Lax" and session["path"] == "/"
    assert csrf["httponly"] and csrf["samesite"] == "Strict"
    assert csrf.value != token  # a new CSRF token comes with the session
    assert not session["secure"]  # plain http here; https sets Secure (request.secure)


async def test_session_of_a_deleted_user_stops_at_once(hub, browsers):
    browser = browsers()
    await browser.sign_in("bob")
    assert (await browser.get("/account/tokens"))[0] == 200
    resp = await hub.client.delete("/api/v1/users/bob", headers=hub.admin)
    assert resp.status == 204
    status, _, resp = await browser.get("/account/tokens")
    assert status == 303 and resp.headers["Location"].startswith("/login")


async def test_session_ends_when_the_password_changes(hub, browsers):
    browser = browsers()
    await browser.sign_in("bob")
    resp = await hub.client.put(
        "/api/v1/users/bob/password", json={"password": "another-pass-2"}, headers=hub.admin
    )
    assert resp.status == 204
    assert (await browser.get("/account/tokens"))[0] == 303


async def test_signing_out_ends_the_session_on_the_server(hub, browsers):
    browser = browsers()
    await browser.sign_in("alice")
    cookie = next(c for c in browser.session.cookie_jar if c.key == "berth_session").value
    await browser.submit("/logout", page="/account/tokens")
    replay = browsers()
    replay.session.cookie_jar.update_cookies({"berth_session": cookie})
    assert (await replay.get("/account/tokens"))[0] == 303


async def test_authorization_header_does_not_sign_a_page_in(hub, browsers):
    status, _, _ = await browsers().get("/account/tokens", headers=hub.alice)
    assert status == 303


async def test_readme_with_script_and_raw_html_renders_inert(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    evil = (
        "# Title <script>alert('x')</script>\n\n"
        '<img src=x onerror="alert(1)"> <a href="javascript:alert(2)">a</a>\n\n'
        "[click](javascript:alert(3)) [data](data:text/html,hi) [ok](https://example.org/)\n"
    )
    resp = await hub.client.patch(
        "/api/v1/repositories/alice/app",
        json={"full_description": evil, "description": "<script>alert(4)</script>"},
        headers=hub.alice,
    )
    assert resp.status == 200
    _, text, _ = await browsers().get("/r/alice/app")
    summary = text[text.index('id="summary"'):text.index('class="meta"')]
    assert "<script" not in summary and "&lt;script&gt;alert(4)" in summary
    readme = text[text.index('class="readme"'):text.index('id="tags-heading"')]
    assert "<script" not in readme and "<img" not in readme
    assert 'href="javascript:' not in readme and 'href="data:' not in readme
    assert "&lt;script&gt;" in readme
    assert '<a href="https://example.org/" rel="noopener nofollow">ok</a>' in readme
    # The whole page: scripts come only from the hub's own file.
    assert re.findall(r"<script[^>]*>", text) == [
        '<script src="/static/berth.js" defer>'
    ]


def test_markdown_keeps_quotes_out_of_attributes():
    out = render_markdown('[x](https://a.example/"onmouseover="alert(1))')
    assert '"onmouseover' not in out and "&quot;" in out


async def test_every_page_has_the_content_security_policy(hub, browsers):
    await push_image(hub.client, "alice/app", "1", hub.alice)
    browser = browsers()
    for path in ("/", "/login", "/r/alice/app", "/r/alice/app/-/tags/1", "/r/nope/nothing"):
        _, _, resp = await browser.get(path)
        policy = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_sign_in_is_throttled_like_the_token_endpoint(hub, browsers):
    browser = browsers()
    # Enough failures from this address on this account refuse the address for the account.
    for _ in range(hub.settings.login_failures_per_pair):
        status, _, _ = await browser.submit("/login", {"username": "alice", "password": "nope"})
        assert status == 401
    status, text, _ = await browser.submit("/login", {"username": "alice", "password": PASSWORD})
    assert status == 429 and "Too many failed sign-ins" in text
    # The same counters: the token endpoint refuses the account from this address too.
    assert (await hub.client.get("/token", headers=hub.alice)).status == 429


async def test_sign_in_redirects_only_to_this_hub(hub, browsers):
    browser = browsers()
    for target in ("//evil.example/", "https://evil.example/", "javascript:alert(1)"):
        status, _, resp = await browser.submit(
            "/login", {"username": "alice", "password": PASSWORD, "next": target}
        )
        assert status == 303 and resp.headers["Location"] == "/"
