"""The hub's files are its user's alone; private trust data is not for shared caches."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from registry.app import create_app
from registry.settings import Settings
from tests.api.conftest import push_image
from tests.api.hub.conftest import ADMIN, ADMIN_PASSWORD
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.signer import Repository


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class _AuthedClient:
    """The test client with the admin's basic credentials on every request."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(url, **kwargs):
            kwargs["headers"] = {**ADMIN, **(kwargs.get("headers") or {})}
            return method(url, **kwargs)

        return call


@pytest.fixture
def login_umask():
    """A typical login umask (022): the hub must not rely on a stricter one."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


async def test_new_data_directory_is_the_hubs_users_alone(aiohttp_client, tmp_path, login_umask):
    data = tmp_path / "data"
    settings = Settings(data_dir=data, admin_password=ADMIN_PASSWORD).resolve()
    client = await aiohttp_client(create_app(settings))
    await push_image(_AuthedClient(client), "admin/app", "v1")
    assert _mode(data) == 0o700
    assert _mode(data / "berth.db") == 0o600
    assert _mode(data / "trust-key-secret") == 0o600
    blob_files = [p for p in (data / "storage").rglob("*") if p.is_file()]
    assert blob_files
    assert all(_mode(p) == 0o600 for p in blob_files), [oct(_mode(p)) for p in blob_files]
    assert _mode(data / "storage") == 0o700


async def test_existing_open_data_directory_is_tightened_at_start(aiohttp_client, tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "berth.db").touch()
    (data / "berth.db").chmod(0o644)
    (data / "berth.db-wal").touch()
    (data / "berth.db-wal").chmod(0o644)
    settings = Settings(data_dir=data, admin_password=ADMIN_PASSWORD).resolve()
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/v2/", headers=ADMIN)).status == 200
    assert _mode(data) == 0o700
    assert _mode(data / "berth.db") == 0o600
    assert _mode(data / "berth.db-wal") == 0o600


async def test_private_repositorys_trust_metadata_is_not_for_shared_caches(hub, tmp_path):
    client = _AuthedClient(hub.client)
    url = str(hub.client.make_url("")).rstrip("/")
    await push_image(client, "admin/secret", "v1")
    await push_image(client, "library/open", "v1")
    resp = await client.patch("/api/v1/repositories/library/open", json={"is_public": True})
    assert resp.status == 200, await resp.text()
    for name in ("admin/secret", "library/open"):
        gun = f"127.0.0.1:5000/{name}"
        remote = HttpRemoteStore(url, gun, authenticator=lambda _: ADMIN["Authorization"])
        author = Repository(gun, remote, KeyStore(tmp_path / name), lambda role: "pass-phrase")
        await asyncio.to_thread(author.initialize)
    for name, public in (("admin/secret", False), ("library/open", True)):
        for document in ("root.json", "1.root.json", "timestamp.json"):
            resp = await client.get(f"/v2/127.0.0.1:5000/{name}/_trust/tuf/{document}")
            assert resp.status == 200, (name, document, await resp.text())
            directives = {d.strip().split("=")[0] for d in resp.headers["Cache-Control"].split(",")}
            if public:
                assert "public" in directives, (name, document)
            else:
                assert "private" in directives and "public" not in directives, (name, document)
                assert "s-maxage" not in directives


async def test_a_repository_made_private_has_private_trust_metadata_at_once(hub, tmp_path):
    client = _AuthedClient(hub.client)
    url = str(hub.client.make_url("")).rstrip("/")
    await push_image(client, "library/turns", "v1")
    gun = "127.0.0.1:5000/library/turns"
    remote = HttpRemoteStore(url, gun, authenticator=lambda _: ADMIN["Authorization"])
    author = Repository(gun, remote, KeyStore(tmp_path / "keys"), lambda role: "pass-phrase")
    await asyncio.to_thread(author.initialize)
    for public, directive in ((True, "public"), (False, "private"), (True, "public")):
        resp = await client.patch("/api/v1/repositories/library/turns", json={"is_public": public})
        assert resp.status == 200, await resp.text()
        for _ in range(2):  # the second answer may come from what the first one read
            resp = await client.get(f"/v2/{gun}/_trust/tuf/timestamp.json")
            assert resp.status == 200, await resp.text()
            assert resp.headers["Cache-Control"].startswith(directive), (public, resp.headers)
