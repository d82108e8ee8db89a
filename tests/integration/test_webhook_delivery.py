"""Webhook deliveries across real hub processes: killed mid-delivery, and two replicas.

- A hub is SIGKILLed while its deliveries hang in a receiver that never answers (the hub holds
  their leases); once the receiver is back and the hub restarted, every event arrives once.
- Two hub processes on one database (SQLite file, or PostgreSQL) both run delivery workers;
  every event pushed through either arrives once.

The receiver checks each signature as the README documents (`tests.support.webhook_receiver`).
"""

from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest

from tests.api.hub.push import push
from tests.support.hub import HubProcess
from tests.support.replicas import start_replica
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "hooks-admin-secret-1"
ADMIN = {"Authorization": "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()}
HOOK_ENV = {
    "BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
    "BERTH_WEBHOOK_ALLOWED_TARGETS": "127.0.0.1",
    "BERTH_WEBHOOK_POLL_SECONDS": "0.2",
    "BERTH_WEBHOOK_RETRY_SECONDS": "0.5",
    "BERTH_WEBHOOK_TIMEOUT_SECONDS": "30",
    "BERTH_WEBHOOK_LEASE_SECONDS": "40",
}


@pytest.fixture(params=["sqlite", "postgres"])
def start_hub(request, hub_factory, tmp_path):
    """Starts hubs of one deployment: a shared data directory, or PostgreSQL + S3."""
    shared = tmp_path / "shared-data"

    def start(**env: str) -> HubProcess:
        options = {"no_auth": False, "env": {**HOOK_ENV, **env}}
        if request.param == "sqlite":
            return hub_factory.start(data_dir=shared, **options)
        backend = request.getfixturevalue("backend")
        return start_replica(hub_factory, backend, **options)

    return start


class BlackHole:
    """Accepts connections on a port, reads, never answers: deliveries hang there."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        await reader.read(-1)  # until the hub's side goes away
        writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._hold, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


async def add_webhook(session: aiohttp.ClientSession, receiver: Receiver) -> int:
    async with session.post("/api/v1/namespaces/admin/webhooks", json={"url": receiver.url},
                            headers=ADMIN) as resp:
        assert resp.status == 201, await resp.text()
        created = await resp.json()
    receiver.secret = created["secret"]
    return int(created["id"])


async def wait_until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_hub_killed_mid_delivery_delivers_each_event_once_after_restart(start_hub):
    hub = await asyncio.to_thread(start_hub, BERTH_WEBHOOK_LEASE_SECONDS="4")
    receiver = Receiver()
    hole = BlackHole(receiver.port)
    await hole.start()
    async with aiohttp.ClientSession(base_url=hub.url) as session:
        await add_webhook(session, receiver)
        for number in range(3):
            assert await push(session, "admin/app", f"v{number}", ADMIN, seed=str(number)) == 201
    # Every delivery is in flight (claimed, leased, its request sent): now the hub dies.
    await wait_until(lambda: hole.connections >= 3, 30)
    await asyncio.to_thread(hub.kill)
    await hole.stop()
    await receiver.start()
    try:
        await asyncio.to_thread(hub.start)
        await receiver.wait_for(3, timeout=60)
        await asyncio.sleep(2)  # a second delivery of anything would be here by now
        events = [got.event_id for got in receiver.accepted]
        assert len(events) == 3 and len(set(events)) == 3
        assert sorted(got.json["push_data"]["tag"] for got in receiver.accepted) == [
            "v0", "v1", "v2"
        ]
        assert receiver.refused == []
    finally:
        await receiver.stop()


async def test_two_replicas_deliver_each_event_once(start_hub):
    first = await asyncio.to_thread(start_hub)
    second = await asyncio.to_thread(start_hub)
    receiver = await Receiver().start()
    try:
        async with (aiohttp.ClientSession(base_url=first.url) as a,
                    aiohttp.ClientSession(base_url=second.url) as b):
            await add_webhook(a, receiver)
            statuses = await asyncio.gather(*(
                push(a if number % 2 else b, "admin/app", f"t{number}", ADMIN, seed=str(number))
                for number in range(12)
            ))
            assert set(statuses) == {201}
        await receiver.wait_for(12, timeout=60)
        await asyncio.sleep(2)
        events = [got.event_id for got in receiver.accepted]
        assert len(events) == 12 and len(set(events)) == 12
        assert receiver.refused == []
    finally:
        await receiver.stop()
