"""Scheduled retention on two hub processes over one PostgreSQL database and one S3 bucket:
when the schedule comes due, the policy runs once, on one replica, and keeps what it says."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from registry.db import retention_queries
from registry.db.engine import create_engine
from tests.support.http import http_request
from tests.support.images import BuiltImage
from tests.support.ports import wait_until
from tests.support.replicas import start_replica
from tests.support.upload import push_image

pytestmark = pytest.mark.slow

REPO = "sched/app"
TAGS = ["t1", "t2", "t3", "t4", "t5"]  # pushed in this order


async def _make_due(database_url: str) -> None:
    """As if the hour of `schedule_hours` had passed."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await retention_queries.set_next_run(
                conn, REPO, datetime.now(UTC) - timedelta(seconds=1)
            )
    finally:
        await engine.dispose()


def _runs(url: str) -> list[dict]:
    answer = http_request("GET", f"{url}/api/v1/repositories/{REPO}/retention/runs")
    assert answer.status == 200, answer.body
    return json.loads(answer.body)["runs"]


def test_a_due_policy_runs_once_across_two_replicas(
    hub_factory,
    backend,
    built_image: BuiltImage,
) -> None:
    env = {"BERTH_RETENTION_CHECK_INTERVAL": "0.2"}
    first = start_replica(hub_factory, backend, env=env)
    second = start_replica(hub_factory, backend, env=env)
    for tag in TAGS:
        push_image(first.url, REPO, tag, built_image)
    policy = {"policy": {"keep_newest": 2, "schedule_hours": 1}}
    answer = http_request(
        "PUT",
        f"{second.url}/api/v1/repositories/{REPO}/retention",
        body=json.dumps(policy).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status == 200, answer.body
    time.sleep(1.0)  # several checks on both replicas: nothing is due yet
    assert _runs(first.url) == []

    asyncio.run(_make_due(backend["database"]))
    assert wait_until(lambda: _runs(first.url) != [], timeout=20)
    time.sleep(1.0)  # both replicas keep checking; the policy is not due again for an hour
    runs = _runs(second.url)
    assert [(r["started_by"], r["dry_run"], r["removed"]) for r in runs] == [
        ("schedule", False, ["t1", "t2", "t3"])
    ]
    tags = http_request("GET", f"{second.url}/v2/{REPO}/tags/list")
    assert json.loads(tags.body)["tags"] == ["t4", "t5"]
