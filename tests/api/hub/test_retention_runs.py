"""Retention with accounts, on SQLite and PostgreSQL: who sets policies, who started a run,
and scheduled runs on two replicas sharing the database, never two at once (a lease)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from registry import keys
from registry.app import create_app
from registry.db import retention_queries
from registry.hub.retention import RetentionService
from tests.api.conftest import error_code
from tests.api.hub.push import push

NAMESPACE_POLICY = "/api/v1/namespaces/alice/retention"


async def _tags(hub, name: str, headers) -> list[str]:
    resp = await hub.client.get(f"/v2/{name}/tags/list", headers=headers)
    return sorted((await resp.json())["tags"])


async def _pushed(hub, alice) -> None:
    for name, tags in (("alice/app", ["a", "b", "c"]), ("alice/db", ["x", "y"])):
        for seed, tag in enumerate(tags):
            assert await push(hub.client, name, tag, alice, seed=f"{name}{seed}") == 201


def _replica(app, clock) -> RetentionService:
    return RetentionService(app[keys.ENGINE], app[keys.WRITER], app[keys.AUDIT], clock=clock)


async def test_namespace_policy_runs_on_schedule_once_across_two_replicas(
    hub, aiohttp_client, auth_settings
):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await _pushed(hub, alice)
    body = {"policy": {"keep_newest": 1, "schedule_hours": 1}}
    assert (await hub.client.put(NAMESPACE_POLICY, json=body, headers=bob)).status == 403
    resp = await hub.client.put(NAMESPACE_POLICY, json=body, headers=alice)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["next_run_at"] is not None

    second = await aiohttp_client(create_app(auth_settings))
    later = datetime.now(UTC) + timedelta(hours=2)
    replicas = [_replica(app, lambda: later) for app in (hub.client.app, second.app)]

    # Not due yet for a replica at the real time.
    assert await _replica(hub.client.app, lambda: datetime.now(UTC)).run_due() == []

    # Another process holds the schedule lease: no replica runs.
    engine = hub.client.app[keys.ENGINE]
    async with engine.begin() as conn:
        assert await retention_queries.acquire_lease(
            conn, "retention-schedule", "elsewhere", later, timedelta(minutes=5)
        )
    assert await replicas[0].run_due() == []
    assert await _tags(hub, "alice/app", alice) == ["a", "b", "c"]

    # Once it expires, both replicas try at once and the policy runs once per repository.
    expired = later + timedelta(minutes=6)
    replicas = [_replica(app, lambda: expired) for app in (hub.client.app, second.app)]
    first, other = await asyncio.gather(replicas[0].run_due(), replicas[1].run_due())
    runs = sorted((r.repository, r.removed) for r in [*first, *other])
    assert runs == [("alice/app", ("a", "b")), ("alice/db", ("x",))]
    assert await _tags(hub, "alice/app", alice) == ["c"]
    assert await _tags(hub, "alice/db", alice) == ["y"]
    history = await (
        await hub.client.get("/api/v1/repositories/alice/app/retention/runs", headers=alice)
    ).json()
    assert [(r["started_by"], r["dry_run"]) for r in history["runs"]] == [("schedule", False)]
    # The next run is an hour after this one: nothing more is due now.
    assert await replicas[1].run_due() == []


async def test_runs_name_who_started_them_and_one_at_a_time(hub):
    alice = await hub.add_user("alice")
    bob = await hub.add_user("bob")
    await _pushed(hub, alice)
    runs = "/api/v1/repositories/alice/app/retention/runs"
    resp = await hub.client.put(
        "/api/v1/repositories/alice/app/retention",
        json={"policy": {"keep_matching": ["c"]}},
        headers=alice,
    )
    assert resp.status == 200
    assert (await hub.client.post(runs, json={"dry_run": False}, headers=bob)).status in (403, 404)

    engine = hub.client.app[keys.ENGINE]
    now = datetime.now(UTC)
    async with engine.begin() as conn:  # a real run in progress on another replica
        assert await retention_queries.acquire_lease(
            conn, "retention:alice/app", "elsewhere", now, timedelta(minutes=5)
        )
    busy = await hub.client.post(runs, json={"dry_run": False}, headers=alice)
    assert busy.status == 409 and await error_code(busy) == "ALREADY_EXISTS"
    dry = await hub.client.post(runs, json={"dry_run": True}, headers=alice)
    assert dry.status == 200 and (await dry.json())["removed"] == ["a", "b"]
    async with engine.begin() as conn:
        await retention_queries.release_lease(conn, "retention:alice/app", "elsewhere", now)

    real = await hub.client.post(runs, json={"dry_run": False}, headers=alice)
    assert real.status == 201 and (await real.json())["removed"] == ["a", "b"]
    history = (await (await hub.client.get(runs, headers=alice)).json())["runs"]
    assert [(r["started_by"], r["dry_run"], r["removed"]) for r in history] == [
        ("alice", False, ["a", "b"]),
        ("alice", True, ["a", "b"]),
    ]
    assert await _tags(hub, "alice/app", alice) == ["c"]
