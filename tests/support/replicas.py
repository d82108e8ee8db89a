"""Hub replicas over one PostgreSQL database and one S3 bucket (moto server), for tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.hub import REPO_ROOT, HubProcess, HubSet, repo_env

__all__ = ["REPLICA_SECRET", "backend", "db_upgrade", "start_replica"]

REPLICA_SECRET = "replicas-share-this-secret-0123456789"


def db_upgrade(database_url: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "registry", "db", "upgrade", "--database", database_url],
        cwd=REPO_ROOT, env=repo_env(), check=True, capture_output=True,
    )


@pytest.fixture
def backend(postgres, s3_server):
    """A migrated database and an empty bucket, with the options a replica needs for them.

    Replicas share the key-encryption secret as they share the database (it seals the
    token-signing and trust keys stored there).
    """
    database = postgres.create_database("replicas")
    db_upgrade(database)
    return {
        "database": database,
        "storage": f"s3://{s3_server.new_bucket('replicas')}/hub",
        "env": {**s3_server.env(), "BERTH_TRUST_KEY_SECRET": REPLICA_SECRET},
    }


def start_replica(hubs: HubSet, backend: dict, **options) -> HubProcess:
    env = {**backend["env"], **options.pop("env", {})}
    return hubs.start(database=backend["database"], storage=backend["storage"], env=env,
                      **options)
