"""`GET /v2/_catalog` latency when most repositories are hidden from the caller.

Run: `python3 bench/catalog_bench.py [--hidden 1000]` from the repository root (with the test
environment's interpreter, `.venv-test/bin/python`). It starts one in-process hub with auth on
over SQLite, creates a user `alice` with `--hidden` private repositories and two public ones
(the first and the last name), and prints the mean latency of catalog pages for an anonymous
bearer token, alice and the admin.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry import keys
from registry.app import create_app
from registry.db.tables import profiles, repositories
from registry.settings import Settings

ADMIN_PASSWORD = "bench-admin-password"
PASSWORD = "bench-alice-password"


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


async def seed(client: TestClient, hidden: int) -> None:
    resp = await client.post(
        "/api/v1/users",
        json={"name": "alice", "password": PASSWORD},
        headers=basic("admin", ADMIN_PASSWORD),
    )
    assert resp.status == 201, await resp.text()
    names = ["alice/a-public"] + [f"alice/p{i:05d}" for i in range(hidden)] + ["alice/z-public"]
    now = datetime.now(UTC)
    async with client.app[keys.ENGINE].begin() as conn:
        await conn.execute(repositories.insert(), [{"name": n, "created_at": now} for n in names])
        rows = (await conn.execute(repositories.select())).all()
        ids = {row.name: row.id for row in rows}
        await conn.execute(
            profiles.insert(),
            [
                {
                    "repository_id": ids[n],
                    "description": "",
                    "is_public": n.endswith("public"),
                    "pull_count": 0,
                }
                for n in names
            ],
        )


async def bearer(client: TestClient, credentials: dict[str, str]) -> dict[str, str]:
    resp = await client.get(
        "/token",
        params={"service": "berth", "scope": "registry:catalog:*"},
        headers=credentials,
    )
    return {"Authorization": "Bearer " + (await resp.json())["token"]}


async def mean_ms(client: TestClient, path: str, headers: dict[str, str], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        resp = await client.get(path, headers=headers)
        assert resp.status == 200
        await resp.read()
    return (time.perf_counter() - start) / rounds * 1000


async def main(hidden: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), admin_password=ADMIN_PASSWORD).resolve()
        client = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        try:
            await seed(client, hidden)
            callers = {
                "anonymous": await bearer(client, {}),
                "alice": await bearer(client, basic("alice", PASSWORD)),
                "admin": await bearer(client, basic("admin", ADMIN_PASSWORD)),
            }
            print(f"{hidden} private repositories of alice, 2 public; mean of {rounds} requests")
            for who, headers in callers.items():
                for query in ("n=1", "n=100", "n=1&last=alice/a-public"):
                    ms = await mean_ms(client, f"/v2/_catalog?{query}", headers, rounds)
                    print(f"  {who:10} _catalog?{query:24} {ms:8.1f} ms")
        finally:
            await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.hidden, args.rounds))
