"""A stand-alone trust server (memory store) per test, and a signer talking to it over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.server.app import create_trust_app
from trust.server.handlers import TRUST_SERVICE
from trust.server.settings import TrustServerSettings
from trust.server.store.memory import MemoryMetaStore
from trust.signer import Repository

GUN = "127.0.0.1:5000/team/app"


def passphrases(role: str) -> str:
    return "root-pass" if role == "root" else "repo-pass"


@dataclass
class AccessLog:
    """Records every access check the handlers asked for."""

    calls: list[tuple[str, str, str, frozenset[str]]] = field(default_factory=list)

    async def __call__(self, request, gun, actions):
        self.calls.append((request.method, request.path, gun, actions))


@dataclass
class TrustServer:
    client: TestClient
    store: MemoryMetaStore
    access: AccessLog
    url: str

    def repository(self, directory, gun: str = GUN, **kwargs) -> Repository:
        remote = HttpRemoteStore(self.url, gun)
        return Repository(gun, remote, KeyStore(directory), passphrases, **kwargs)

    async def state(self, gun: str = GUN) -> dict[str, bytes]:
        return {role: m.data for role, m in (await self.store.get_all_current(gun)).items()}

    async def publish(self, files: dict[str, bytes], gun: str = GUN):
        form = FormData()
        for role, data in files.items():
            form.add_field("files", data, filename=role)
        return await self.client.post(f"/v2/{gun}/_trust/tuf/", data=form)

    def set_clock(self, now: dt.datetime) -> None:
        self.client.app[TRUST_SERVICE].clock = lambda: now


@pytest.fixture
async def trust_server(aiohttp_client) -> TrustServer:
    store = MemoryMetaStore()
    access = AccessLog()
    settings = TrustServerSettings(key_encryption_secret=b"test-secret-0123456789")
    client = await aiohttp_client(create_trust_app(store, settings, access))
    return TrustServer(client, store, access, str(client.make_url("")).rstrip("/"))


async def run(function, *args, **kwargs):
    """Run a blocking library call (urllib) while the test server keeps serving."""
    return await asyncio.to_thread(function, *args, **kwargs)
