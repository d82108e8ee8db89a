"""The trust state on the pages: which tags are signed, by which role, until when.

Trust data is made by the real signer library publishing to the hub's trust routes, on an
open hub (as the verification gate's API tests do).
"""

from __future__ import annotations

import asyncio
import re

import pytest

from registry.app import create_app
from registry.settings import Settings
from tests.api.test_trust_required import sign, signer
from tests.web.support import WebClient, push_image


@pytest.fixture
async def open_client(aiohttp_client, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", auth_enabled=False).resolve()
    return await aiohttp_client(create_app(settings))


async def test_signed_tags_and_their_signature_are_shown(open_client, tmp_path):
    signed = await push_image(open_client, "team/app", "v1", {}, seed="a", public=False)
    await push_image(open_client, "team/app", "v2", {}, seed="b", public=False)
    payload = await (await open_client.get(
        f"/v2/team/app/manifests/{signed}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )).read()
    author = signer(open_client, tmp_path / "keys", "127.0.0.1:5000/team/app")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", signed, len(payload))

    browser = WebClient(open_client)
    try:
        _, page, _ = await browser.get("/r/team/app")
        rows = dict(re.findall(r'/-/tags/([^"/]+)">.*?<td class="signed">(\w+)<', page, re.S))
        assert rows == {"v1": "Signed", "v2": "No"}
        _, page, _ = await browser.get("/r/team/app/-/tags/v1")
        trust = page[page.index('id="trust-heading"'):page.index('id="referrers-heading"')]
        assert "127.0.0.1:5000/team/app" in trust
        assert "<dd>targets</dd>" in trust
        assert re.search(r"Timestamp expires</dt><dd>\d{4}-\d\d-\d\d", trust)
        assert "another digest" not in trust
        _, page, _ = await browser.get("/r/team/app/-/tags/v2")
        assert 'id="unsigned"' in page
        # Retagged after signing: the signature is for another digest, so not signed.
        await push_image(open_client, "team/app", "v1", {}, seed="c", public=False)
        _, page, _ = await browser.get("/r/team/app")
        assert '/-/tags/v1">v1</a></td>' in page
        rows = dict(re.findall(r'/-/tags/([^"/]+)">.*?<td class="signed">(\w+)<', page, re.S))
        assert rows["v1"] == "No"
        _, page, _ = await browser.get("/r/team/app/-/tags/v1")
        assert "(another digest: " in page
    finally:
        await browser.close()


async def test_explore_filters_signed_repositories(open_client, tmp_path):
    signed = await push_image(open_client, "team/signed", "v1", {}, seed="s", public=False)
    await push_image(open_client, "team/plain", "v1", {}, seed="p", public=False)
    payload = await (await open_client.get(
        f"/v2/team/signed/manifests/{signed}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )).read()
    author = signer(open_client, tmp_path / "keys", "127.0.0.1:5000/team/signed")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", signed, len(payload))
    browser = WebClient(open_client)
    try:
        _, page, _ = await browser.get("/?q=team")
        assert set(re.findall(r'<h3><a href="/r/([^"]+)">', page)) == {"team/signed", "team/plain"}
        _, page, _ = await browser.get("/?q=team&signed=1")
        assert re.findall(r'<h3><a href="/r/([^"]+)">', page) == ["team/signed"]
        assert "1 repository" in page
        assert 'name="signed" value="1" checked' in page
    finally:
        await browser.close()
