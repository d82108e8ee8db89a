"""Trust routes behind hub-style token auth: the access check gets notary's scopes, and
Berth's client follows the Bearer challenge with `TokenAuthenticator`."""

from __future__ import annotations

import base64

import pytest
from aiohttp import web

from tests.api.trust.conftest import GUN, passphrases, run
from trust.client.cache import MetadataCache
from trust.client.updater import Updater, resolve
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore, RemoteRejectedError
from trust.remote_auth import TokenAuthenticator, parse_challenge
from trust.server.app import create_trust_app
from trust.server.settings import TrustServerSettings
from trust.server.store.memory import MemoryMetaStore
from trust.signer import Repository

USERS = {"alice": "alice-pw", "reader": "reader-pw"}
GRANTS = {"alice": {"pull", "push", "*"}, "reader": {"pull"}}


@pytest.fixture
async def secured(aiohttp_client):
    issued: list[str] = []

    async def token(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
        if USERS.get(user) != password:
            raise web.HTTPUnauthorized()
        scope = request.query["scope"]
        wanted = set(scope.rsplit(":", 1)[1].split(","))
        granted = wanted & GRANTS[user]
        issued.append(scope)
        return web.json_response({"token": f"{user}|{','.join(sorted(granted))}"})

    async def check(request: web.Request, gun: str, actions: frozenset[str]) -> None:
        header = request.headers.get("Authorization", "")
        _, _, granted = header.removeprefix("Bearer ").partition("|")
        if not header.startswith("Bearer ") or not actions <= set(granted.split(",")):
            scope = f"repository:{gun}:{','.join(sorted(actions))}"
            challenge = f'Bearer realm="{realm}",service="berth",scope="{scope}"'
            raise web.HTTPUnauthorized(headers={"WWW-Authenticate": challenge})

    app = create_trust_app(MemoryMetaStore(), TrustServerSettings(b"auth-secret-0123456789"), check)
    app.router.add_get("/token", token)
    client = await aiohttp_client(app)
    realm = str(client.make_url("/token"))
    return str(client.make_url("")).rstrip("/"), issued


def test_parse_challenge():
    scheme, params = parse_challenge('Bearer realm="https://h/token",service="s",scope="a:b:c,d"')
    assert scheme == "bearer"
    assert params == {"realm": "https://h/token", "service": "s", "scope": "a:b:c,d"}


async def test_publish_and_pull_with_tokens(secured, tmp_path):
    url, issued = secured
    remote = HttpRemoteStore(url, GUN, authenticator=TokenAuthenticator("alice", "alice-pw"))
    author = Repository(GUN, remote, KeyStore(tmp_path / "a"), passphrases)
    await run(author.initialize)
    await run(author.sign_target, "v1", "ab" * 32, 1)
    assert f"repository:{GUN}:pull" in issued
    assert f"repository:{GUN}:pull,push" in issued

    reader = HttpRemoteStore(url, GUN, authenticator=TokenAuthenticator("reader", "reader-pw"))
    trusted = await run(Updater(GUN, reader, MetadataCache(tmp_path / "r", GUN)).refresh)
    assert resolve(trusted, "v1").sha256 == "ab" * 32
    with pytest.raises(RemoteRejectedError) as refused:
        await run(reader.rotate_key, "timestamp")  # needs "*"
    assert refused.value.status == 401

    anonymous = HttpRemoteStore(url, GUN)
    with pytest.raises(RemoteRejectedError):
        await run(anonymous.get_meta, "root")
    wrong = HttpRemoteStore(url, GUN, authenticator=TokenAuthenticator("alice", "nope"))
    with pytest.raises(RemoteRejectedError):
        await run(wrong.get_meta, "root")
