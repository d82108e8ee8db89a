"""Benchmark manifest PUTs with webhooks on the namespace against none, in one run.

Run: `.venv-test/bin/python bench/webhook_bench.py` from the repository root. It starts Berth
(`python3 -m registry serve --no-auth`, SQLite, filesystem storage) on a free loopback port,
adds `--webhooks` webhooks to the namespaces `hooked` and `capped` with `berth-hub webhook add`
(to a receiver in this process that answers 204 on loopback), and measures, round by round
alternating:

- `quiet`: `--tags` manifest PUTs by tag, `--in-flight` at once, in a namespace without webhooks;
- `hooked`: the same in `hooked`, where every PUT writes `--webhooks` outbox rows in its
  transaction and the hub's delivery worker signs and sends them meanwhile;
- `hooked, delivered elsewhere`: the same against a second hub on the same data directory that
  runs no delivery worker (`webhook_deliver = false`): the push path's own cost (the outbox
  rows), while the first hub delivers (on the same CPUs).

- `quota, delivered elsewhere`: the same, to the second hub, in `limited`, a namespace with a
  storage quota (`berth-hub quota set`, large enough never to refuse) and no webhooks;
- `webhooks + quota, delivered elsewhere`: in `capped`, which has both the webhooks and a quota.

Every PUT stores a manifest of its own (an annotation numbers it), as a push of a new image
does: a quota check then pays its whole path (lock the quota row, the bytes the push adds, the
namespace's usage), which re-pushing a stored manifest skips.

It prints the median req/s of each and their ratio, and how long the last deliveries took to
arrive after the last PUT (the outbox draining).
"""

from __future__ import annotations

import argparse
import asyncio
import json
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


QUOTA = "1TiB"  # a quota no round comes near: every check passes, none is skipped
HOOKED = ("hooked", "capped")  # the namespaces with webhooks
LIMITED = ("limited", "capped")  # the namespaces with a quota


def hub_command(data_dir: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "registry", *args, "--data", str(data_dir)],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **HOOK_ENV},
        check=True, capture_output=True,
    )


def add_webhooks(data_dir: Path, url: str, count: int) -> None:
    for namespace in HOOKED:
        for _ in range(count):
            hub_command(data_dir, "webhook", "add", namespace, url)


async def add_quotas(server: Server, data_dir: Path) -> None:
    """A quota on each of `LIMITED` (a namespace of an open registry exists once it holds a
    repository: push one first)."""
    async with aiohttp.ClientSession() as session:
        for namespace in LIMITED:
            await _push_image(session, server.url, f"{namespace}/seed")
            hub_command(data_dir, "quota", "set", namespace, QUOTA)


async def tag_pushes(server: Server, repo: str, count: int, in_flight: int) -> float:
    """`count` manifest PUTs by new tags in `repo`; PUTs per second."""
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        image = await _push_image(session, server.url, repo)
        headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        url = f"{server.url}/v2/{image.repo}/manifests/"
        document = json.loads(image.manifest)
        # A manifest of its own per PUT (built before the clock starts).
        manifests = [
            json.dumps({**document, "annotations": {"bench.index": str(i)}}).encode()
            for i in range(count)
        ]

        async def one(index: int) -> None:
            await _call(session, "PUT", f"{url}t{index}", 201, data=manifests[index],
                        headers=headers)

        return count / await _run_all(count, in_flight, one)


async def measure(
    server: Server, pusher: Server, receiver: Receiver, args: argparse.Namespace
) -> None:
    targets = {"quiet": (server, "quiet"), "hooked": (server, "hooked"),
               "elsewhere": (pusher, "hooked"), "quota": (pusher, "limited"),
               "capped": (pusher, "capped")}
    samples: dict[str, list[float]] = {kind: [] for kind in targets}
    expected = args.webhooks  # the seed push into `capped` (see add_quotas)
    drained: list[float] = []
    for run in range(args.rounds):
        for kind, (target, namespace) in targets.items():
            repo = f"{namespace}/{kind}{run}"
            value = await tag_pushes(target, repo, args.tags, args.in_flight)
            samples[kind].append(value)
            print(f"  round {run + 1} {kind:<10} {value:10.1f} PUT/s", file=sys.stderr)
            if namespace in HOOKED:
                # Let the outbox drain, so the next measurement does not share the CPUs with
                # this one's deliveries.
                finished = time.perf_counter()
                expected += (args.tags + 1) * args.webhooks
                deadline = finished + 300
                while receiver.count < expected and time.perf_counter() < deadline:
                    await asyncio.sleep(0.05)
                drained.append(max(receiver.last_at - finished, 0.0))
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    quiet = medians["quiet"]
    labels = {
        "quiet": "no webhooks, no quota",
        "hooked": f"{args.webhooks} webhooks",
        "elsewhere": f"{args.webhooks} webhooks, delivered elsewhere",
        "quota": "quota, no webhooks (other process)",
        "capped": f"{args.webhooks} webhooks + quota, delivered elsewhere",
    }
    print(f"\nmanifest PUT by tag (a new manifest each), SQLite, median of {args.rounds} "
          f"interleaved rounds; {args.tags} tags, {args.in_flight} in flight; "
          f"{os.cpu_count()} CPUs")
    width = max(map(len, labels.values())) + 2
    print(f"{'namespace':<{width}}{'PUT/s':>10}{'ratio':>8}")
    for kind, label in labels.items():
        print(f"{label:<{width}}{medians[kind]:>10,.0f}{medians[kind] / quiet:>7.2f}x")
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
            await add_quotas(server, workdir / "berth-data")
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
