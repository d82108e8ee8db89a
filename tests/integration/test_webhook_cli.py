"""`berth-hub webhook`: add (secret printed once), ls, deliveries, redeliver, rm, refusals.

A real hub process pushes and delivers to a receiver on loopback; the commands run beside it on
the same data directory, as an administrator would.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp
import pytest

from tests.api.hub.push import push
from tests.integration.test_webhook_delivery import ADMIN, HOOK_ENV
from tests.support.hub import REPO_ROOT, repo_env
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.slow


def cli(data_dir, *args: str, allowed: str = "127.0.0.1") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "registry", "webhook", *args, "--data", str(data_dir)],
        cwd=REPO_ROOT, env=repo_env({"BERTH_WEBHOOK_ALLOWED_TARGETS": allowed}),
        capture_output=True, text=True, timeout=120,
    )


async def test_webhook_commands_manage_and_redeliver(hub_factory, tmp_path):
    data = tmp_path / "data"
    hub = await asyncio.to_thread(hub_factory.start, data_dir=data, no_auth=False,
                                  env=HOOK_ENV)
    receiver = await Receiver().start()
    try:
        added = await asyncio.to_thread(cli, data, "add", "admin", receiver.url,
                                        "--event", "push", "--format", "cloudevents")
        assert added.returncode == 0, added.stderr
        first_line, secret = added.stdout.strip().splitlines()
        assert first_line.startswith("webhook 1 of admin (push; cloudevents)")
        receiver.secret = secret
        listed = await asyncio.to_thread(cli, data, "ls", "admin")
        assert receiver.url in listed.stdout and secret not in listed.stdout

        async with aiohttp.ClientSession(base_url=hub.url) as session:
            assert await push(session, "admin/app", "v1", ADMIN) == 201
        (got,) = await receiver.wait_for(1)
        assert got.json["type"] == "io.berth.push"
        delivery = got.headers["Berth-Delivery"]
        await asyncio.sleep(0.5)  # the outcome is recorded just after the answer
        log = await asyncio.to_thread(cli, data, "deliveries", "admin", "1")
        assert log.returncode == 0, log.stderr
        row = next(line for line in log.stdout.splitlines() if line.startswith(delivery))
        assert row.split()[1:5] == ["push", "delivered", "1", "204"]

        again = await asyncio.to_thread(cli, data, "redeliver", "admin", "1", delivery)
        assert again.returncode == 0, again.stderr
        _, second = await receiver.wait_for(2)
        assert second.event_id == got.event_id
        assert receiver.refused == []

        removed = await asyncio.to_thread(cli, data, "rm", "admin", "1")
        assert removed.returncode == 0 and "removed webhook 1" in removed.stdout
        gone = await asyncio.to_thread(cli, data, "deliveries", "admin", "1")
        assert gone.returncode == 1 and "no webhook 1" in gone.stderr
    finally:
        await receiver.stop()


def test_a_disallowed_receiver_is_refused_by_the_command(tmp_path):
    refused = cli(tmp_path / "data", "add", "admin", "http://127.0.0.1:9/hook", allowed="public")
    assert refused.returncode == 1
    assert "which webhooks may not reach" in refused.stderr
    assert "webhook_allowed_targets" in refused.stderr
