"""Two hubs on one database (replicas, or `--workers`), SQLite or PostgreSQL: a publish through
one is what the other serves next, so a signer whose reads and publishes land on different hubs
signs twice in a row without a VERSION error."""

from __future__ import annotations

import asyncio

from registry.app import create_app
from tests.api.hub.conftest import ADMIN
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.signer import Repository

GUN = "127.0.0.1:5000/admin/app"


class _ReadHerePublishThere:
    """A trust remote that reads through one hub and publishes through another, as a client
    behind a load balancer may."""

    def __init__(self, reads: HttpRemoteStore, publishes: HttpRemoteStore) -> None:
        self._reads, self._publishes = reads, publishes

    def __getattr__(self, name):
        return getattr(
            self._publishes if name in ("publish", "rotate_key", "delete") else self._reads, name
        )


def _remote(client) -> HttpRemoteStore:
    url = str(client.make_url("")).rstrip("/")
    return HttpRemoteStore(url, GUN, authenticator=lambda _: ADMIN["Authorization"])


async def test_a_publish_through_one_hub_is_served_at_once_by_the_other(
    aiohttp_client, auth_settings, tmp_path
):
    settings = auth_settings
    first = await aiohttp_client(create_app(settings))
    second = await aiohttp_client(create_app(settings))
    remote = _ReadHerePublishThere(_remote(second), _remote(first))
    signer = Repository(GUN, remote, KeyStore(tmp_path / "keys"), lambda role: "pass-phrase")
    await asyncio.to_thread(signer.initialize)
    for version in range(1, 6):
        # Each signing reads the current metadata through the second hub (which serves it from
        # memory when it can) and publishes through the first.
        await asyncio.to_thread(signer.sign_target, f"v{version}", f"{version:064x}", version)
    timestamps = [
        await (await client.get(f"/v2/{GUN}/_trust/tuf/timestamp.json", headers=ADMIN)).read()
        for client in (first, second)
    ]
    assert timestamps[0] == timestamps[1]
    trusted = await asyncio.to_thread(
        Repository(
            GUN, _remote(second), KeyStore(tmp_path / "reader"), lambda role: "unused"
        ).refresh
    )
    assert sorted(trusted.targets["targets"].signed.targets) == [f"v{n}" for n in range(1, 6)]
