"""Benchmark manifest PUTs with webhooks on the namespace against none, in one run.

Run: `.venv-test/bin/python bench/webhook_bench.py` from the repository root. It starts Berth
(`python3 -m registry serve --no-auth`, SQLite, filesystem storage) on a free loopback port,
adds `--webhooks` webhooks to the namespace `hooked` with `berth-hub webhook add` (to a receiver
in this process that answers 204 on loopback), and measures, round by round alternating:

- `quiet`: `--tags` manifest PUTs by tag, `--in-flight` at once, in a namespace without webhooks;
- `hooked`: the same in `hooked`, where every PUT writes `--webhooks` outbox rows in its
  transaction and the hub's delivery worker signs and sends them meanwhile.

It prints the median req/s of each and their ratio, and how long the last deliveries took to
arrive after the last PUT (the outbox draining).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import REPO_ROOT, Server, berth  # a sibling module, not a package
from write_bench import _call, _push_image, _run_all

from tests.support.ports import free_port

HOOK_ENV = {"BERTH_WEBHOOK_ALLOWED_TARGETS": "127.0.0.1", "BERTH_WEBHOOK_POLL_SECONDS": "0.2"}


class Receiver:
    """Counts deliveries; answers 204 at once."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = 0
        self.last_at = 0.0
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.count += 1
        self.last_at = time.perf_counter()
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def add_webhooks(data_dir: Path, url: str, count: int) -> None:
    for _ in range(count):
        subprocess.run(
            [sys.executable, "-m", "registry", "webhook", "add", "hooked", url,
             "--data", str(data_dir)],
            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **HOOK_ENV},
            check=True, capture_output=True,
        )


async def tag_pushes(server: Server, repo: str, count: int, in_flight: int) -> float:
    """`count` manifest PUTs by new tags in `repo`; PUTs per second."""
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        image = await _push_image(session, server.url, repo)
        headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        url = f"{server.url}/v2/{image.repo}/manifests/"

        async def one(index: int) -> None:
            await _call(session, "PUT", f"{url}t{index}", 201, data=image.manifest,
                        headers=headers)

        return count / await _run_all(count, in_flight, one)


async def measure(server: Server, receiver: Receiver, args: argparse.Namespace) -> None:
    samples: dict[str, list[float]] = {"quiet": [], "hooked": []}
    for run in range(args.rounds):
        for namespace in samples:
            value = await tag_pushes(server, f"{namespace}/r{run}", args.tags, args.in_flight)
            samples[namespace].append(value)
            print(f"  round {run + 1} {namespace:<8} {value:10.1f} PUT/s", file=sys.stderr)
    finished = time.perf_counter()
    expected = args.rounds * (args.tags + 1) * args.webhooks
    deadline = finished + 300
    while receiver.count < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    drained = max(receiver.last_at - finished, 0.0)
    quiet, hooked = (statistics.median(samples[k]) for k in ("quiet", "hooked"))
    print(f"\nmanifest PUT by tag, SQLite, median of {args.rounds} interleaved rounds; "
          f"{args.tags} tags, {args.in_flight} in flight; {os.cpu_count()} CPUs")
    print(f"{'namespace':<34}{'PUT/s':>10}{'ratio':>8}")
    print(f"{'no webhooks':<34}{quiet:>10,.0f}{'1.00x':>8}")
    print(f"{f'{args.webhooks} webhooks':<34}{hooked:>10,.0f}{hooked / quiet:>7.2f}x")
    print(f"deliveries: {receiver.count} of {expected}, the last {drained:.1f} s after the "
          "last PUT")


async def run(args: argparse.Namespace, workdir: Path) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        add_webhooks(workdir / "berth-data", f"http://127.0.0.1:{receiver.port}/hook",
                     args.webhooks)
        with berth(workdir, "berth", env=HOOK_ENV)() as server:
            await measure(server, receiver, args)
    finally:
        await receiver.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=1000, help="manifest PUTs per round")
    parser.add_argument("--in-flight", type=int, default=16, help="concurrent requests")
    parser.add_argument("--webhooks", type=int, default=5, help="webhooks on the namespace")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="berth-webhook-bench-") as tmp:
        asyncio.run(run(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
