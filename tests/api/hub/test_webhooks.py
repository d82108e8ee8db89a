"""Webhooks end to end on an in-process hub (SQLite and PostgreSQL), with a real receiver.

The receiver (`tests.support.webhook_receiver`) checks every delivery's signature as the README
documents; a test passes only when nothing it received was refused unless the test says so.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import time

import pytest
from sqlalchemy import text

from registry import keys
from registry.app import create_app
from registry.settings import Settings
from tests.api.hub.conftest import ADMIN, ADMIN_PASSWORD, Hub
from tests.api.hub.conftest import empty_tables as _empty_tables
from tests.api.hub.push import push
from tests.support.webhook_receiver import DeliveryRefusedError, Receiver, check_delivery

FAST = {
    "webhook_poll_seconds": 0.1,
    "webhook_retry_seconds": 0.2,
    "webhook_timeout_seconds": 5.0,
}


async def _settings(request, tmp_path, **extra) -> Settings:
    database_url = None
    if request.param == "postgres":
        database_url = request.getfixturevalue("api_database")
        await _empty_tables(database_url)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_password=ADMIN_PASSWORD,
        **extra,
    ).resolve()


@pytest.fixture(params=["sqlite", "postgres"])
async def hook_settings(request, tmp_path) -> Settings:
    """Settings of a hub whose webhooks may reach 127.0.0.1 only (the test's receiver)."""
    return await _settings(request, tmp_path, webhook_allowed_targets="127.0.0.1", **FAST)


@pytest.fixture
async def hooked(aiohttp_client, hook_settings) -> Hub:
    return Hub(await aiohttp_client(create_app(hook_settings)), hook_settings)


@pytest.fixture(params=["sqlite", "postgres"])
async def default_hub(request, aiohttp_client, tmp_path) -> Hub:
    """A hub with the default allow-list (public addresses only)."""
    settings = await _settings(request, tmp_path)
    return Hub(await aiohttp_client(create_app(settings)), settings)


@pytest.fixture
async def receiver():
    receiver = await Receiver().start()
    yield receiver
    await receiver.stop()


async def add_webhook(hub: Hub, namespace: str, receiver: Receiver, **body) -> dict:
    resp = await hub.client.post(
        f"/api/v1/namespaces/{namespace}/webhooks",
        json={"url": receiver.url, **body},
        headers=ADMIN,
    )
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    receiver.secret = created["secret"]
    return created


async def deliveries(hub: Hub, namespace: str, webhook_id: int) -> list[dict]:
    resp = await hub.client.get(
        f"/api/v1/namespaces/{namespace}/webhooks/{webhook_id}/deliveries", headers=ADMIN
    )
    assert resp.status == 200, await resp.text()
    return (await resp.json())["deliveries"]


async def settled(hub: Hub, namespace: str, webhook_id: int) -> list[dict]:
    """The deliveries once none is pending (an attempt's outcome is recorded just after it)."""
    deadline = time.monotonic() + 10
    while True:
        log = await deliveries(hub, namespace, webhook_id)
        if all(d["status"] != "pending" for d in log):
            return log
        assert time.monotonic() < deadline, log
        await asyncio.sleep(0.05)


async def test_a_push_is_delivered_signed_in_docker_hubs_shape(hooked, receiver):
    alice = await hooked.add_user("alice")
    hook = await add_webhook(hooked, "alice", receiver)
    assert set(hook["events"]) == {
        "push",
        "tag_delete",
        "repository_delete",
        "trust_publish",
        "signature_denied",
    }
    assert hook["format"] == "docker"
    listed = await hooked.client.get("/api/v1/namespaces/alice/webhooks", headers=ADMIN)
    (shown,) = (await listed.json())["webhooks"]
    assert shown["url"] == receiver.url and "secret" not in shown

    assert await push(hooked.client, "alice/app", "v1", alice) == 201
    (got,) = await receiver.wait_for(1)
    body = got.json
    assert body["push_data"]["pusher"] == "alice"
    assert body["push_data"]["tag"] == "v1"
    assert body["push_data"]["digest"].startswith("sha256:")
    assert isinstance(body["push_data"]["pushed_at"], int)
    assert body["repository"]["repo_name"] == "alice/app"
    assert body["repository"]["namespace"] == "alice"
    assert body["repository"]["name"] == "app"
    assert body["callback_url"].endswith(
        f"/api/v1/namespaces/alice/webhooks/{hook['id']}/deliveries/{got.headers['Berth-Delivery']}"
    )
    assert got.headers["Berth-Event"] == "push"
    assert receiver.refused == []

    (log,) = await settled(hooked, "alice", hook["id"])
    assert log["status"] == "delivered"
    assert log["response_code"] == 204
    assert log["attempts"] == 1
    assert log["latency_ms"] is not None
    assert log["event_id"] == got.event_id


async def test_the_database_holds_the_secret_sealed_only(hooked, receiver):
    await hooked.add_user("alice")
    hook = await add_webhook(hooked, "alice", receiver)
    async with hooked.client.app[keys.ENGINE].connect() as conn:
        (stored,) = (await conn.execute(text("SELECT secret FROM webhooks"))).scalars()
    assert stored.startswith("berth-sealed:v1:")
    assert hook["secret"] not in stored
    assert bytes.fromhex(hook["secret"]) not in base64.b64decode(stored.split(":")[-1])


async def test_cloudevents_for_tag_and_repository_deletes_of_one_repository(hooked, receiver):
    alice = await hooked.add_user("alice")
    await add_webhook(
        hooked,
        "alice",
        receiver,
        format="cloudevents",
        repository="app",
        events=["tag_delete", "repository_delete"],
    )
    assert await push(hooked.client, "alice/app", "v1", alice) == 201
    assert await push(hooked.client, "alice/app", "v2", alice, seed="b") == 201
    assert await push(hooked.client, "alice/other", "v1", alice) == 201
    resp = await hooked.client.delete("/v2/alice/app/manifests/v1", headers=alice)
    assert resp.status == 202
    resp = await hooked.client.delete("/v2/alice/other/manifests/v1", headers=alice)
    assert resp.status == 202  # another repository: not this webhook's
    resp = await hooked.client.delete("/api/v1/repositories/alice/app", headers=alice)
    assert resp.status == 204

    first, second = await receiver.wait_for(2)
    await asyncio.sleep(0.5)
    assert len(receiver.accepted) == 2  # no push events, nothing of alice/other
    assert first.headers["Content-Type"] == "application/cloudevents+json"
    tag_event, repo_event = first.json, second.json
    assert tag_event["specversion"] == "1.0"
    assert tag_event["type"] == "io.berth.tag_delete"
    assert tag_event["subject"] == "v1"
    assert tag_event["data"]["repository"] == "alice/app"
    assert tag_event["data"]["actor"] == "alice"
    assert tag_event["id"] == first.event_id
    assert repo_event["type"] == "io.berth.repository_delete"
    assert repo_event["source"].endswith("/r/alice/app")
    assert receiver.refused == []


async def test_events_wait_for_a_receiver_that_is_down_then_arrive_once(hooked):
    receiver = Receiver()  # not listening yet
    alice = await hooked.add_user("alice")
    hook = await add_webhook(hooked, "alice", receiver)
    for number in range(3):
        assert await push(hooked.client, "alice/app", f"v{number}", alice, seed=str(number)) == 201

    async def retried() -> bool:
        log = await deliveries(hooked, "alice", hook["id"])
        return len(log) == 3 and all(d["attempts"] >= 2 and d["status"] == "pending" for d in log)

    deadline = time.monotonic() + 30
    while not await retried():
        assert time.monotonic() < deadline, await deliveries(hooked, "alice", hook["id"])
        await asyncio.sleep(0.1)
    log = await deliveries(hooked, "alice", hook["id"])
    assert all(d["error"] and d["response_code"] is None for d in log)

    await receiver.start()
    try:
        await receiver.wait_for(3)
        await asyncio.sleep(1.0)  # anything sent twice would arrive by now
        events = [r.event_id for r in receiver.accepted]
        assert len(events) == 3 and len(set(events)) == 3
        assert sorted(r.json["push_data"]["tag"] for r in receiver.accepted) == ["v0", "v1", "v2"]
        assert receiver.refused == []
        log = await deliveries(hooked, "alice", hook["id"])
        assert {d["status"] for d in log} == {"delivered"}
    finally:
        await receiver.stop()


async def test_a_redelivery_sends_the_same_event_under_a_new_delivery_id(hooked, receiver):
    alice = await hooked.add_user("alice")
    hook = await add_webhook(hooked, "alice", receiver)
    assert await push(hooked.client, "alice/app", "v1", alice) == 201
    (first,) = await receiver.wait_for(1)
    delivery = first.headers["Berth-Delivery"]
    resp = await hooked.client.post(
        f"/api/v1/namespaces/alice/webhooks/{hook['id']}/deliveries/{delivery}/redeliver",
        headers=ADMIN,
    )
    assert resp.status == 202, await resp.text()
    _, again = await receiver.wait_for(2)
    assert again.event_id == first.event_id
    assert again.headers["Berth-Delivery"] != delivery
    assert receiver.refused == []


async def test_forged_and_replayed_deliveries_are_refused_by_the_documented_check(hooked, receiver):
    alice = await hooked.add_user("alice")
    await add_webhook(hooked, "alice", receiver)
    assert await push(hooked.client, "alice/app", "v1", alice) == 201
    (real,) = await receiver.wait_for(1)
    headers = {k: v for k, v in real.headers.items() if k.startswith(("Berth-", "Content-Type"))}
    client = hooked.client.session  # any HTTP client: the receiver is a real server

    async def send(body: bytes, sent_headers: dict) -> int:
        async with client.post(receiver.url, data=body, headers=sent_headers) as resp:
            return resp.status

    # The captured delivery sent again: same delivery id.
    assert await send(real.body, headers) == 409
    # A changed body under the captured signature.
    forged_body = real.body.replace(b'"v1"', b'"evil"')
    assert forged_body != real.body
    assert await send(forged_body, {**headers, "Berth-Delivery": "999999"}) == 401
    # Signed with a secret the attacker guessed.
    now = int(time.time())
    wrong = hmac.new(b"guess", f"{now}.".encode() + real.body, hashlib.sha256).hexdigest()
    assert (
        await send(
            real.body,
            {**headers, "Berth-Delivery": "999998", "Berth-Signature": f"t={now},v1={wrong}"},
        )
        == 401
    )
    assert [reason for reason, _ in receiver.refused] == [
        "replayed",
        "bad signature",
        "bad signature",
    ]
    # The captured delivery replayed after the tolerance, under a fresh delivery id.
    signed_at = int(real.headers["Berth-Signature"].split(",")[0].removeprefix("t="))
    with pytest.raises(DeliveryRefusedError, match="too old"):
        check_delivery(
            receiver.secret,
            {**real.headers, "Berth-Delivery": "1"},
            real.body,
            set(),
            now=signed_at + 301,
        )
    assert len(receiver.accepted) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "ftp://example.com/hook",
        "http://user:pw@93.184.216.34/hook",
    ],
)
async def test_a_webhook_to_a_disallowed_address_is_refused_at_creation(default_hub, url):
    await default_hub.add_user("alice")
    resp = await default_hub.client.post(
        "/api/v1/namespaces/alice/webhooks", json={"url": url}, headers=ADMIN
    )
    assert resp.status == 400, await resp.text()
    error = (await resp.json())["errors"][0]
    assert error["code"] == "INVALID_REQUEST"
    assert error["detail"]["field"] == "url"
    listed = await default_hub.client.get("/api/v1/namespaces/alice/webhooks", headers=ADMIN)
    assert (await listed.json())["webhooks"] == []


async def test_only_the_allow_list_is_reachable_when_one_is_set(hooked):
    resp = await hooked.client.post(
        "/api/v1/namespaces/admin/webhooks", json={"url": "http://10.0.0.8/hook"}, headers=ADMIN
    )
    assert resp.status == 400
    resp = await hooked.client.post(
        "/api/v1/namespaces/admin/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["pull", "bogus"]},
        headers=ADMIN,
    )
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["detail"]["field"] == "events"
    resp = await hooked.client.post(
        "/api/v1/namespaces/admin/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "repository": "Not A Name!"},
        headers=ADMIN,
    )
    assert resp.status == 400
    assert (await resp.json())["errors"][0]["detail"]["field"] == "repository"


async def test_other_users_cannot_see_or_change_a_namespaces_webhooks(hooked, receiver):
    alice = await hooked.add_user("alice")
    bob = await hooked.add_user("bob")
    hook = await add_webhook(hooked, "alice", receiver)
    resp = await hooked.client.get("/api/v1/namespaces/alice/webhooks", headers=bob)
    assert resp.status == 403
    resp = await hooked.client.delete(
        f"/api/v1/namespaces/alice/webhooks/{hook['id']}", headers=bob
    )
    assert resp.status == 403
    resp = await hooked.client.delete(f"/api/v1/namespaces/bob/webhooks/{hook['id']}", headers=bob)
    assert resp.status == 404  # bob's namespace has no such webhook
    resp = await hooked.client.delete(
        f"/api/v1/namespaces/alice/webhooks/{hook['id']}", headers=alice
    )
    assert resp.status == 204
    assert await push(hooked.client, "alice/app", "v1", alice) == 201
    await asyncio.sleep(0.5)
    assert receiver.accepted == []


async def test_a_hub_without_a_delivery_worker_leaves_delivery_to_another(
    hook_settings, aiohttp_client, receiver
):
    quiet_settings = dataclasses.replace(hook_settings, webhook_deliver=False)
    quiet = Hub(await aiohttp_client(create_app(quiet_settings)), quiet_settings)
    alice = await quiet.add_user("alice")
    await add_webhook(quiet, "alice", receiver)
    assert await push(quiet.client, "alice/app", "v1", alice) == 201
    await asyncio.sleep(1.0)
    assert receiver.accepted == []  # in the outbox, not delivered
    await aiohttp_client(create_app(hook_settings))  # a hub that delivers
    (got,) = await receiver.wait_for(1)
    assert got.json["push_data"]["tag"] == "v1"
    assert receiver.refused == []


async def test_old_settled_deliveries_are_pruned_from_the_log(
    hook_settings, aiohttp_client, receiver
):
    hub = Hub(await aiohttp_client(create_app(hook_settings)), hook_settings)
    alice = await hub.add_user("alice")
    hook = await add_webhook(hub, "alice", receiver)
    assert await push(hub.client, "alice/app", "v1", alice) == 201
    await receiver.wait_for(1)
    assert len(await settled(hub, "alice", hook["id"])) == 1
    await asyncio.sleep(1.5)
    # A hub keeping a one-second log prunes when its worker starts.
    short = dataclasses.replace(hook_settings, webhook_log_days=1 / 86400)
    await aiohttp_client(create_app(short))
    deadline = time.monotonic() + 10
    while await deliveries(hub, "alice", hook["id"]):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def test_deleting_a_manifest_by_digest_reports_each_of_its_tags(hooked, receiver):
    alice = await hooked.add_user("alice")
    await add_webhook(hooked, "alice", receiver, events=["tag_delete"])
    assert await push(hooked.client, "alice/app", "v1", alice) == 201
    assert await push(hooked.client, "alice/app", "latest", alice) == 201  # the same image
    assert await push(hooked.client, "alice/app", "other", alice, seed="b") == 201
    resp = await hooked.client.head(
        "/v2/alice/app/manifests/v1",
        headers={**alice, "Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    digest = resp.headers["Docker-Content-Digest"]
    resp = await hooked.client.delete(f"/v2/alice/app/manifests/{digest}", headers=alice)
    assert resp.status == 202
    await receiver.wait_for(2)
    await asyncio.sleep(0.5)
    assert sorted(got.json["push_data"]["tag"] for got in receiver.accepted) == ["latest", "v1"]
    assert receiver.refused == []
