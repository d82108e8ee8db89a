"""Webhook events beyond pushes and deletes: trust publishes, signature-gate refusals and
(opt-in) pulls, on an open registry over SQLite and PostgreSQL, with a real receiver.

The webhooks are added through `WebhookService`, what `berth-hub webhook add` calls (an open
registry has no accounts to call the API with).
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from registry import keys
from registry.app import create_app
from tests.api.conftest import push_image
from tests.api.test_trust_required import get, require_trust, sign, signer
from tests.support.webhook_receiver import Receiver


@pytest.fixture
async def hooked(aiohttp_client, settings):
    fast = dataclasses.replace(
        settings, webhook_allowed_targets="127.0.0.1", webhook_poll_seconds=0.1,
        webhook_retry_seconds=0.2,
    )
    return await aiohttp_client(create_app(fast))


@pytest.fixture
async def receivers():
    started = [await Receiver().start(), await Receiver().start()]
    yield started
    for receiver in started:
        await receiver.stop()


async def add(client, receiver: Receiver, events: list[str] | None) -> None:
    _, secret = await client.app[keys.WEBHOOKS].create(
        "team", receiver.url, events=events, actor="test"
    )
    receiver.secret = secret


def types(receiver: Receiver) -> list[str]:
    return [got.headers["Berth-Event"] for got in receiver.accepted]


async def test_trust_publish_gate_refusal_and_opt_in_pull_events(hooked, receivers, tmp_path):
    everything, defaults = receivers
    await add(hooked, everything, ["trust_publish", "signature_denied", "pull"])
    await add(hooked, defaults, None)  # every event but pulls
    signed = await push_image(hooked, "team/app", "v1", seed="a")
    await push_image(hooked, "team/app", "v2", seed="b")
    await defaults.wait_for(2)  # the two pushes
    assert everything.accepted == []  # not subscribed to pushes

    author = signer(hooked, tmp_path / "keys", "127.0.0.1:5000/team/app")
    await asyncio.to_thread(author.initialize)
    await sign(author, "v1", signed.digest, len(signed.payload))
    await everything.wait_for(1)
    await asyncio.sleep(0.5)
    publishes = [got.json for got in everything.accepted]
    assert {body["event"] for body in publishes} == {"trust_publish"}
    assert {body["repository"]["repo_name"] for body in publishes} == {"team/app"}

    await require_trust(hooked, "team/app")
    assert (await get(hooked, "team/app", "v2")).status == 403
    assert (await get(hooked, "team/app", "v1")).status == 200
    seen = len(publishes)
    await everything.wait_for(seen + 2)
    denied, pulled = (got.json for got in everything.accepted[seen:seen + 2])
    assert denied["event"] == "signature_denied"
    assert denied["push_data"]["tag"] == "v2"
    assert denied["push_data"]["reason"].startswith("content trust required")
    assert pulled["event"] == "pull"
    assert pulled["push_data"]["tag"] == "v1"
    assert pulled["push_data"]["digest"] == signed.digest

    await defaults.wait_for(2 + seen + 1)
    await asyncio.sleep(0.5)
    assert "pull" not in types(defaults)
    assert types(defaults).count("signature_denied") == 1
    assert types(defaults).count("trust_publish") == seen
    assert everything.refused == [] and defaults.refused == []
