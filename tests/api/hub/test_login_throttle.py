"""Login throttling seen from several client addresses (loopback aliases 127.0.0.x).

A guesser locks out only itself: its address is refused for the account it guessed at, the
owner logs in from elsewhere; guesses from many addresses slow the account down, never lock it.
"""

from __future__ import annotations

import time
from dataclasses import replace

import aiohttp
import pytest

from registry.app import create_app
from tests.api.hub.conftest import PASSWORD, Hub, basic

VICTIM, ATTACKER = "127.0.0.1", "127.0.0.2"


async def status_from(hub: Hub, source: str, path: str, headers: dict[str, str]) -> int:
    """The status of a GET sent from the loopback address `source`."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(hub.client.make_url(path), headers=headers) as resp,
    ):
        return resp.status


async def test_a_guesser_locks_out_only_its_own_address(hub):
    await hub.add_user("alice")
    for _ in range(hub.settings.login_failures_per_pair):
        assert await status_from(hub, ATTACKER, "/token", basic("alice", "guess")) == 401
    # The guesser is refused, right password or not, on /token and basic auth alike.
    assert await status_from(hub, ATTACKER, "/token", basic("alice", PASSWORD)) == 429
    assert await status_from(hub, ATTACKER, "/v2/", basic("alice", PASSWORD)) == 429
    # The owner logs in from her own address.
    assert await status_from(hub, VICTIM, "/token", basic("alice", PASSWORD)) == 200
    assert await status_from(hub, VICTIM, "/v2/", basic("alice", PASSWORD)) == 200


async def test_failures_with_unknown_names_do_not_lock_out_a_shared_address(hub):
    await hub.add_user("alice")
    for i in range(hub.settings.login_failures_per_address):
        assert await status_from(hub, ATTACKER, "/token", basic(f"nobody{i}", "guess")) == 401
    # Behind the same NAT, alice (whom this address never failed on) logs in.
    assert await status_from(hub, ATTACKER, "/token", basic("alice", PASSWORD)) == 200


@pytest.fixture
async def slow_hub(aiohttp_client, auth_settings) -> Hub:
    settings = replace(auth_settings, login_failures_per_account=6, login_slowdown_seconds=0.5)
    return Hub(await aiohttp_client(create_app(settings)), settings)


async def test_guesses_from_many_addresses_slow_the_account_and_never_lock_it(slow_hub):
    hub = slow_hub
    await hub.add_user("alice")
    await hub.add_user("bob")
    for source in ("127.0.0.3", "127.0.0.4", "127.0.0.5"):
        for _ in range(2):
            assert await status_from(hub, source, "/token", basic("alice", "guess")) == 401
    started = time.monotonic()
    assert await status_from(hub, VICTIM, "/token", basic("alice", PASSWORD)) == 200
    assert time.monotonic() - started >= hub.settings.login_slowdown_seconds
    # Another account is not slowed.
    started = time.monotonic()
    assert await status_from(hub, VICTIM, "/token", basic("bob", PASSWORD)) == 200
    assert time.monotonic() - started < hub.settings.login_slowdown_seconds
