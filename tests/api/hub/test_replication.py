"""Replication rules through the JSON API: hub admins only, passwords sealed and never shown,
rules checked, paused and resumed, runs started at once (202) and followed to their end, and
a run against a remote that does not answer recorded as failed with its retries and the error
of each item."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web

from registry import keys
from registry.app import create_app
from registry.db import replication_queries, retention_queries
from registry.db.engine import create_engine
from tests.api.hub.conftest import ADMIN, Hub
from tests.support.ports import free_port

RULES = "/api/v1/replication/rules"
DEADLINE = 60.0  # seconds a run may take to end before a test gives up on it


@pytest.fixture
async def hub(aiohttp_client, auth_settings) -> Hub:
    # Runs here are started by hand: no background checks, two quick tries per item.
    settings = dataclasses.replace(
        auth_settings,
        replication_check_interval=0,
        replication_attempts=2,
        replication_backoff=0.01,
    )
    return Hub(await aiohttp_client(create_app(settings)), settings)


async def started(hub: Hub, rule_name: str) -> str:
    """POST a run of the rule: answered at once with the run `running`; its location."""
    answer = await hub.client.post(f"{RULES}/{rule_name}/runs", headers=ADMIN)
    assert answer.status == 202, await answer.text()
    run = await answer.json()
    assert run["status"] == "running" and run["finished_at"] is None
    assert answer.headers["Location"] == f"/api/v1/replication/runs/{run['id']}"
    return answer.headers["Location"]


async def finished(hub: Hub, location: str) -> dict:
    """The run at `location` once it is no longer running (polled, with a deadline)."""
    async with asyncio.timeout(DEADLINE):
        while True:
            run = await (await hub.client.get(location, headers=ADMIN)).json()
            if run["status"] != "running":
                return run
            await asyncio.sleep(0.05)


def rule(**changes: object) -> dict:
    document = {
        "name": "to-dr",
        "direction": "push",
        "url": f"http://127.0.0.1:{free_port()}",
        "repositories": "alice/*",
        "tags": "v*",
        "destination": "mirror",
        "username": "bot",
        "password": "remote-secret-1",
        "on_push": True,
        "schedule_minutes": 30,
    }
    document.update(changes)
    return document


async def test_only_hub_admins_manage_rules(hub):
    alice = await hub.add_user("alice")
    for method, path in [
        ("GET", RULES),
        ("POST", RULES),
        ("GET", "/api/v1/replication/runs"),
        ("GET", "/api/v1/replication/runs/1"),
        ("POST", RULES + "/to-dr/runs"),
        ("POST", RULES + "/to-dr/pause"),
        ("DELETE", RULES + "/to-dr"),
    ]:
        anonymous = await hub.client.request(method, path, json=rule())
        assert anonymous.status == 401, (method, path)
        user = await hub.client.request(method, path, json=rule(), headers=alice)
        assert user.status == 403, (method, path)
    assert (await hub.client.get(RULES, headers=ADMIN)).status == 200


async def test_rules_are_created_shown_paused_and_removed_without_their_password(hub):
    created = await hub.client.post(RULES, json=rule(), headers=ADMIN)
    assert created.status == 201, await created.text()
    shown = await created.json()
    assert "remote-secret-1" not in await created.text()
    assert shown["has_password"] is True and shown["username"] == "bot"
    assert (shown["direction"], shown["repositories"], shown["tags"]) == ("push", "alice/*", "v*")
    assert (shown["on_push"], shown["schedule_minutes"], shown["enabled"]) == (True, 30, True)

    again = await hub.client.post(RULES, json=rule(), headers=ADMIN)
    assert again.status == 409
    for bad in [
        rule(direction="sideways"),
        rule(url="ftp://example"),
        rule(tags="v 1"),
        rule(password=None),
        rule(direction="pull", on_push=True),
        rule(schedule_minutes=0),
        rule(extra=1),
    ]:
        refused = await hub.client.post(RULES, json={**bad, "name": "other"}, headers=ADMIN)
        assert refused.status == 400, bad
        assert (await refused.json())["errors"][0]["code"] == "INVALID_REQUEST"

    # The password is stored sealed, never as given.
    engine = create_engine(hub.settings.database_url or "")
    try:
        async with engine.connect() as conn:
            stored = await replication_queries.rule_by_name(conn, "to-dr")
    finally:
        await engine.dispose()
    assert stored is not None and stored.password is not None
    assert stored.password.startswith("berth-sealed:v1:")
    assert "remote-secret-1" not in stored.password

    paused = await hub.client.post(RULES + "/to-dr/pause", headers=ADMIN)
    assert (await paused.json())["enabled"] is False
    by_id = await hub.client.get(f"{RULES}/{shown['id']}", headers=ADMIN)
    assert (await by_id.json())["name"] == "to-dr"
    resumed = await hub.client.post(RULES + "/to-dr/resume", headers=ADMIN)
    assert (await resumed.json())["enabled"] is True
    listed = await (await hub.client.get(RULES, headers=ADMIN)).json()
    assert [r["name"] for r in listed["rules"]] == ["to-dr"]

    assert (await hub.client.delete(RULES + "/to-dr", headers=ADMIN)).status == 204
    assert (await hub.client.get(RULES + "/to-dr", headers=ADMIN)).status == 404


async def test_a_run_against_a_silent_remote_fails_with_retries_and_errors(hub):
    # A pull rule naming one repository: the run's first request goes to the remote.
    document = rule(direction="pull", on_push=False, repositories="team/app", tags="*")
    assert (await hub.client.post(RULES, json=document, headers=ADMIN)).status == 201
    run = await finished(hub, await started(hub, "to-dr"))
    assert (run["status"], run["trigger"], run["started_by"]) == ("failed", "manual", "admin")
    assert (run["copied"], run["skipped"], run["failed"], run["retries"]) == (0, 0, 1, 1)
    [error] = run["errors"]
    assert error["item"] == "team/app" and error["attempts"] == 2
    assert "unreachable" in error["error"]
    history = await (await hub.client.get(RULES + "/to-dr/runs", headers=ADMIN)).json()
    assert [r["id"] for r in history["runs"]] == [run["id"]]
    assert history["runs"][0]["finished_at"] is not None


async def test_a_due_rule_is_claimed_once_per_period(hub):
    document = rule(direction="pull", on_push=False, repositories="team/app", tags="*")
    assert (await hub.client.post(RULES, json=document, headers=ADMIN)).status == 201
    service = hub.client.app[keys.REPLICATION]
    # Due at creation: the first check runs it, the next ones wait for the next period.
    [run] = await service.run_due()
    assert (run.rule, run.trigger, run.started_by) == ("to-dr", "schedule", "schedule")
    assert await service.run_due() == []
    shown = await (await hub.client.get(RULES + "/to-dr", headers=ADMIN)).json()
    assert shown["next_run_at"] > run.started_at.isoformat()[:19]

    # A paused rule is not run by its schedule.
    await hub.client.post(RULES + "/to-dr/pause", headers=ADMIN)
    later = service.clock
    service.clock = lambda: later() + timedelta(minutes=31)
    assert await service.run_due() == []
    await hub.client.post(RULES + "/to-dr/resume", headers=ADMIN)
    assert len(await service.run_due()) == 1


async def test_a_run_left_running_by_a_dead_process_is_marked_interrupted(hub):
    document = rule(direction="pull", on_push=False, repositories="team/app", tags="*")
    created = await (await hub.client.post(RULES, json=document, headers=ADMIN)).json()
    service = hub.client.app[keys.REPLICATION]
    async with service.engine.begin() as conn:  # as a process killed mid-run leaves it
        await replication_queries.start_run(conn, created["id"], "manual", "admin", service.clock())
    await finished(hub, await started(hub, "to-dr"))
    history = await (await hub.client.get(RULES + "/to-dr/runs", headers=ADMIN)).json()
    assert [run["status"] for run in history["runs"]] == ["failed", "interrupted"]
    assert all(run["finished_at"] for run in history["runs"])


async def test_a_rule_running_elsewhere_is_not_run_again(hub):
    document = rule(direction="pull", on_push=False, repositories="team/app", tags="*")
    created = await (await hub.client.post(RULES, json=document, headers=ADMIN)).json()
    service = hub.client.app[keys.REPLICATION]
    lease = f"replication:{created['id']}"
    async with service.engine.begin() as conn:  # another replica's run holds the rule
        assert await retention_queries.acquire_lease(
            conn, lease, "another-replica", service.clock(), timedelta(minutes=5)
        )
    busy = await hub.client.post(RULES + "/to-dr/runs", headers=ADMIN)
    assert busy.status == 409
    assert "is running" in (await busy.json())["errors"][0]["message"]
    assert await service.run_due() == []  # its due period is claimed, the run skipped
    history = await (await hub.client.get(RULES + "/to-dr/runs", headers=ADMIN)).json()
    assert history["runs"] == []


@pytest.fixture
async def silent_remote(aiohttp_server) -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A registry that holds every request until the event is set (then answers 404)."""
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", held)
    server = await aiohttp_server(app)
    try:
        yield f"http://127.0.0.1:{server.port}", release
    finally:
        release.set()


async def test_a_run_is_answered_at_once_and_followed_until_it_ends(hub, silent_remote):
    url, release = silent_remote
    document = rule(direction="pull", on_push=False, repositories="team/app", tags="*", url=url)
    assert (await hub.client.post(RULES, json=document, headers=ADMIN)).status == 201
    # The remote holds the run's first request: the answer cannot wait for the run's end.
    async with asyncio.timeout(DEADLINE):
        location = await started(hub, "to-dr")
    shown = await (await hub.client.get(location, headers=ADMIN)).json()
    assert (shown["status"], shown["trigger"]) == ("running", "manual")
    assert shown["started_by"] == "admin"
    history = await (await hub.client.get(RULES + "/to-dr/runs", headers=ADMIN)).json()
    assert [run["status"] for run in history["runs"]] == ["running"]
    busy = await hub.client.post(RULES + "/to-dr/runs", headers=ADMIN)  # no rule runs twice
    assert busy.status == 409
    assert (await busy.json())["errors"][0]["code"] == "ALREADY_EXISTS"

    release.set()  # the remote answers: the repository is not there, nothing to copy
    run = await finished(hub, location)
    assert (run["status"], run["copied"], run["failed"]) == ("succeeded", 0, 0)
    assert run["finished_at"] is not None
    missing = await hub.client.get("/api/v1/replication/runs/999999", headers=ADMIN)
    assert missing.status == 404
    assert (await hub.client.get("/api/v1/replication/runs/x", headers=ADMIN)).status == 404


async def test_a_run_cut_by_the_hub_stopping_ends_interrupted(hub, silent_remote):
    url, _ = silent_remote
    document = rule(direction="pull", on_push=False, repositories="team/app", tags="*", url=url)
    created = await (await hub.client.post(RULES, json=document, headers=ADMIN)).json()
    location = await started(hub, "to-dr")
    service = hub.client.app[keys.REPLICATION]
    await service.close()  # as the hub's shutdown does
    run = await (await hub.client.get(location, headers=ADMIN)).json()
    assert run["status"] == "interrupted" and run["finished_at"] is not None
    async with service.engine.begin() as conn:  # the rule is free again
        assert await retention_queries.acquire_lease(
            conn, f"replication:{created['id']}", "another", service.clock(), timedelta(minutes=5)
        )
