"""Benchmark manifest PUTs with webhooks on the namespace against none, in one run.

Run: `.venv-test/bin/python bench/webhook_bench.py` from the repository root. It starts Berth
(`python3 -m registry serve --no-auth`, SQLite, filesystem storage) on a free loopback port,
adds `--webhooks` webhooks to the namespace `hooked` with `berth-hub webhook add` (to a receiver
in this process that answers 204 on loopback), and measures, round by round alternating:

- `quiet`: `--tags` manifest PUTs by tag, `--in-flight` at once, in a namespace without webhooks;
- `hooked`: the same in `hooked`, where every PUT writes `--webhooks` outbox rows in its
  transaction and the hub's delivery worker signs and sends them meanwhile;
- `hooked, delivered elsewhere`: the same against a second hub on the same data directory that
  runs no delivery worker (`webhook_deliver = false`): the push path's own cost (the outbox
  rows), while the first hub delivers (on the same CPUs).

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


async def measure(
    server: Server, pusher: Server, receiver: Receiver, args: argparse.Namespace
) -> None:
    samples: dict[str, list[float]] = {"quiet": [], "hooked": [], "elsewhere": []}
    targets = {"quiet": (server, "quiet"), "hooked": (server, "hooked"),
               "elsewhere": (pusher, "hooked")}
    expected = 0
    drained: list[float] = []
    for run in range(args.rounds):
        for kind, (target, namespace) in targets.items():
            repo = f"{namespace}/{kind}{run}"
            value = await tag_pushes(target, repo, args.tags, args.in_flight)
            samples[kind].append(value)
            print(f"  round {run + 1} {kind:<10} {value:10.1f} PUT/s", file=sys.stderr)
            if namespace == "hooked":
                # Let the outbox drain, so the next measurement does not share the CPUs with
                # this one's deliveries.
                finished = time.perf_counter()
                expected += (args.tags + 1) * args.webhooks
                deadline = finished + 300
                while receiver.count < expected and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
                drained.append(max(receiver.last_at - finished, 0.0))
    quiet, hooked, elsewhere = (statistics.median(samples[k]) for k in samples)
    print(f"\nmanifest PUT by tag, SQLite, median of {args.rounds} interleaved rounds; "
          f"{args.tags} tags, {args.in_flight} in flight; {os.cpu_count()} CPUs")
    print(f"{'namespace':<34}{'PUT/s':>10}{'ratio':>8}")
    print(f"{'no webhooks':<34}{quiet:>10,.0f}{'1.00x':>8}")
    print(f"{f'{args.webhooks} webhooks':<34}{hooked:>10,.0f}{hooked / quiet:>7.2f}x")
    print(f"{f'{args.webhooks} webhooks, delivered elsewhere':<34}{elsewhere:>10,.0f}"
          f"{elsewhere / quiet:>7.2f}x")
    print(f"deliveries: {receiver.count} of {expected}; the outbox drained a median "
          f"{statistics.median(drained):.1f} s after a round's last PUT")


async def run(args: argparse.Namespace, workdir: Path) -> None:
    receiver = Receiver()
    await receiver.start()
    try:
        add_webhooks(workdir / "berth-data", f"http://127.0.0.1:{receiver.port}/hook",
                     args.webhooks)
        with (berth(workdir, "berth", env=HOOK_ENV)() as server,
              berth(workdir, "pusher", env={**HOOK_ENV, "BERTH_WEBHOOK_DELIVER": "false"},
                    data=workdir / "berth-data")() as pusher):
            await measure(server, pusher, receiver, args)
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
