"""A scheduled replication rule on two hub processes over one PostgreSQL database and one S3
bucket: each time the schedule comes due, the rule runs once, on one replica."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from registry.db.engine import create_engine
from registry.db.tables import replication_rules
from tests.integration.test_replication import remote  # noqa: F401 - a fixture: Distribution
from tests.support.hub import REPO_ROOT, repo_env
from tests.support.images import BuiltImage
from tests.support.ports import wait_until
from tests.support.reference_registry import ReferenceRegistry
from tests.support.replicas import start_replica
from tests.support.skopeo import Skopeo
from tests.support.upload import push_image

pytestmark = [pytest.mark.slow, pytest.mark.skopeo]

WINDOW = 1.5  # seconds both replicas keep checking (every 0.2 s) after a run


def cli(backend: dict, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "registry", "replication", *args,
         "--database", backend["database"], "--data", str(data)],
        cwd=REPO_ROOT, env=repo_env(backend["env"]), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def scheduled_runs(backend: dict, data: Path) -> list[dict]:
    listed = cli(backend, data, "runs", "nightly", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return [run for run in json.loads(listed.stdout) if run["trigger"] == "schedule"]


async def _make_due(database_url: str) -> None:
    """As if the rule's period had passed."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                update(replication_rules).values(
                    next_run_at=datetime.now(UTC) - timedelta(seconds=1)
                )
            )
    finally:
        await engine.dispose()


def test_a_scheduled_rule_runs_once_per_period_across_two_replicas(
    hub_factory,
    backend,
    remote: ReferenceRegistry,  # noqa: F811
    skopeo: Skopeo,
    built_image: BuiltImage,
    tmp_path: Path,
) -> None:
    env = {"BERTH_REPLICATION_CHECK_INTERVAL": "0.2"}
    first = start_replica(hub_factory, backend, env=env)
    start_replica(hub_factory, backend, env=env)
    push_image(first.url, "sched/app", "v1", built_image)
    data = tmp_path / "cli-data"
    added = cli(
        backend, data, "add", "nightly", "--direction", "push",
        "--url", f"http://{remote.host}", "--repositories", "sched/*", "--every", "60",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr

    # Due at once: one replica claims the period and runs it.
    def finished(count: int) -> bool:
        found = scheduled_runs(backend, data)
        return len(found) >= count and all(run["finished_at"] for run in found)

    assert wait_until(lambda: finished(1), timeout=60)
    time.sleep(WINDOW)  # both replicas keep checking; the next period is an hour away
    [run] = scheduled_runs(backend, data)
    assert (run["status"], run["started_by"], run["failed"]) == ("succeeded", "schedule", 0)
    assert run["copied"] == len(built_image.blobs()) + 1
    image = f"docker://{remote.host}/sched/app:v1"
    assert skopeo.inspect(image, raw=True).stdout.encode() == built_image.manifest

    asyncio.run(_make_due(backend["database"]))
    assert wait_until(lambda: finished(2), timeout=60)
    time.sleep(WINDOW)
    runs = scheduled_runs(backend, data)
    assert len(runs) == 2
    assert (runs[0]["status"], runs[0]["copied"], runs[0]["skipped"]) == ("succeeded", 0, 1)
