"""What the token endpoint and the Bearer challenge say to clients with odd requests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from registry.app import create_app
from tests.api.hub.conftest import ADMIN, bearer


async def _error(resp, status: int, code: str) -> dict:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["errors"][0]["code"] == code, body
    return body["errors"][0]


async def test_no_token_for_another_service(hub):
    for credentials in ({}, ADMIN):
        resp = await hub.client.get(
            "/token",
            params={"service": "other", "scope": "repository:library/app:pull"},
            headers=credentials,
        )
        error = await _error(resp, 400, "INVALID_REQUEST")
        assert "berth" in error["message"]
    form = {"grant_type": "password", "username": "admin", "password": "admin-secret-1",
            "service": "other"}
    resp = await hub.client.post("/token", data=form)
    await _error(resp, 400, "INVALID_REQUEST")
    # The hub's own service (or none named) still gets a token.
    assert (await hub.client.get("/token", params={"service": "berth"})).status == 200
    assert (await hub.client.get("/token")).status == 200


@pytest.mark.parametrize(
    "token",
    ["abc.def.ghi", "not-a-jwt", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "a.b"],
)
async def test_malformed_bearer_token_is_refused_in_the_hubs_words(hub, token):
    resp = await hub.client.get("/v2/", headers=bearer(token))
    error = await _error(resp, 401, "UNAUTHORIZED")
    message = error["message"].lower()
    for library_words in ("invalid header string", "codec", "padding", "segments", "utf-8"):
        assert library_words not in message, message
    assert "token" in message
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "host", ['evil",x="y', "evil\\", "a b", 'h"ost:5000']
)
async def test_host_header_is_not_reflected_into_the_challenge(hub, host):
    resp = await hub.client.get("/v2/", headers={"Host": host})
    assert resp.status == 401
    challenge = resp.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer realm="http://127.0.0.1:{hub.client.port}/token",')
    assert "evil" not in challenge and "ost" not in challenge


async def test_a_plain_host_header_still_names_the_realm(hub):
    resp = await hub.client.get("/v2/", headers={"Host": "hub.example:5000"})
    assert 'realm="http://hub.example:5000/token"' in resp.headers["WWW-Authenticate"]


async def test_configured_realm_wins_over_the_host(aiohttp_client, auth_settings):
    settings = replace(auth_settings, auth_realm="https://auth.example/token")
    client = await aiohttp_client(create_app(settings))
    resp = await client.get("/v2/", headers={"Host": "evil.example"})
    assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="https://auth.example/token"')


async def test_a_name_with_a_quote_cannot_end_the_challenge_scope(hub):
    # A GUN with a quote names no repository (names are checked before access), so it never
    # reaches a challenge; were it to, the scope is a quoted-string with the quote escaped.
    resp = await hub.client.get('/v2/a"b/_trust/tuf/root.json')
    await _error(resp, 400, "NAME_INVALID")
    assert 'a"b' not in resp.headers.get("WWW-Authenticate", "")
