"""Benchmark Berth's write path against the reference registry (CNCF Distribution 2.8).

Run: `.venv-test/bin/python bench/write_bench.py` from the repository root (any Python with
Berth's dependencies installed). In one run it starts, each on a free loopback port with data in
a temporary directory:

- Berth on SQLite (`python3 -m registry serve --no-auth`, filesystem storage);
- Berth on PostgreSQL (a throw-away cluster started as the tests start theirs, with fsync on),
  unless `--no-postgres` or PostgreSQL is not installed;
- Debian's `docker-registry` (filesystem storage, delete enabled), the reference.

and measures, round by round with the servers alternating so that outside load hits all alike:

- manifest PUT by tag: `--tags` PUTs of one small image under new tags, `--in-flight` at once;
- new repository: for each of `--repos` new repositories, HEAD of the layer (absent), two
  cross-repository mounts (config and layer) and a manifest PUT, `--in-flight` at once, as
  `docker push` of an image whose layers the registry already has;
- blob push MiB/s of a `--blob-mib` blob: monolithic (one PUT) and chunked (`--chunk-mib`
  PATCHes), one upload at a time. Each push sends new content (the blob's first bytes are
  renewed), so no server can skip storing bytes it already has.

The blob workloads also run against two bare aiohttp sinks (`bench/upload_sink.py`), the
ceiling rows: one that only receives and hashes each body, one that also writes it to disk and
fsyncs it, as a durable registry must. They show what this stack allows on this machine.

It prints one table per database: the median of `--rounds` rounds for Berth and the reference,
and their ratio. `--baseline DIR` adds Berth run from another checkout (on SQLite) to the same
rounds, for a before/after comparison on one run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # a sibling module, not a package
    OCI_MANIFEST,
    REPO_ROOT,
    BenchError,
    Server,
    Starter,
    berth,
    free_port,
    running,
)
from registry_bench import MIB, make_blob, push_chunked, push_monolithic, reference

from tests.support.postgres import PostgresCluster, PostgresUnavailableError

CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Image:
    """A small image already pushed to a server: its manifest and the digests it names."""

    repo: str
    manifest: bytes
    config: str
    layer: str


async def _call(session: aiohttp.ClientSession, method: str, url: str, status: int,
                **kwargs: object) -> aiohttp.ClientResponse:
    async with session.request(method, url, **kwargs) as response:  # type: ignore[arg-type]
        await response.read()
        if response.status != status:
            raise BenchError(f"{method} {url}: HTTP {response.status}")
        return response


async def _push_blob(session: aiohttp.ClientSession, base: str, repo: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    started = await _call(session, "POST", f"{base}/v2/{repo}/blobs/uploads/", 202)
    location = started.headers["Location"]
    separator = "&" if "?" in location else "?"
    url = location if location.startswith("http") else base + location
    await _call(session, "PUT", f"{url}{separator}digest={digest}", 201, data=data,
                headers={"Content-Type": "application/octet-stream"})
    return digest


async def _push_image(session: aiohttp.ClientSession, base: str, repo: str) -> Image:
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": []}, "created": repo}).encode()
    layer = os.urandom(2048)
    config_digest = await _push_blob(session, base, repo, config)
    layer_digest = await _push_blob(session, base, repo, layer)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG_TYPE, "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": LAYER_TYPE, "digest": layer_digest, "size": len(layer)}],
    }).encode()
    await _call(session, "PUT", f"{base}/v2/{repo}/manifests/latest", 201, data=manifest,
                headers={"Content-Type": OCI_MANIFEST})
    return Image(repo, manifest, config_digest, layer_digest)


async def _run_all(count: int, in_flight: int, one: Callable[[int], object]) -> float:
    """Run `one(i)` for i in range(count), `in_flight` at a time; return the seconds taken."""
    queue = iter(range(count))

    async def worker() -> None:
        for index in queue:
            await one(index)  # type: ignore[misc]

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return time.perf_counter() - started


async def tag_pushes(server: Server, label: str, count: int, in_flight: int) -> float:
    """PUT one manifest under `count` new tags; return manifest PUTs per second."""
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        image = await _push_image(session, server.url, f"bench/tags-{label}")
        headers = {"Content-Type": OCI_MANIFEST}
        url = f"{server.url}/v2/{image.repo}/manifests/"

        async def one(index: int) -> None:
            await _call(session, "PUT", f"{url}t{index}", 201, data=image.manifest,
                        headers=headers)

        return count / await _run_all(count, in_flight, one)


async def repository_pushes(server: Server, label: str, count: int, in_flight: int) -> float:
    """Push `count` new repositories (HEAD, two mounts, manifest PUT); return repositories/s."""
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        image = await _push_image(session, server.url, f"bench/source-{label}")
        headers = {"Content-Type": OCI_MANIFEST}

        async def one(index: int) -> None:
            repo = f"{server.url}/v2/bench/r{label}-{index}"
            await _call(session, "HEAD", f"{repo}/blobs/{image.layer}", 404)
            for digest in (image.config, image.layer):
                await _call(session, "POST",
                            f"{repo}/blobs/uploads/?mount={digest}&from={image.repo}", 201)
            await _call(session, "PUT", f"{repo}/manifests/latest", 201, data=image.manifest,
                        headers=headers)

        return count / await _run_all(count, in_flight, one)


WORKLOADS = ("manifest PUT by tag (req/s)", "new repository: HEAD+2 mounts+PUT (repos/s)",
             "blob push monolithic (MiB/s)", "blob push chunked (MiB/s)")


BLOB_WORKLOADS = WORKLOADS[2:]
WORKLOAD_KEYS = dict(zip(("tags", "repos", "mono", "chunked"), WORKLOADS, strict=True))


def renew_blob(blob: Path) -> str:
    """Give `blob` new content (its first 16 bytes) and return its digest."""
    with blob.open("r+b") as file:
        file.write(os.urandom(16))
        file.seek(0)
        return "sha256:" + hashlib.file_digest(file, "sha256").hexdigest()


def sink(workdir: Path, durable: bool) -> Starter:
    """How to run the bare upload sink (`bench/upload_sink.py`), storing and fsyncing or not."""
    port = free_port()
    name = CEILING_DURABLE if durable else CEILING
    command = [sys.executable, str(REPO_ROOT / "bench" / "upload_sink.py"), "--port", str(port)]
    if durable:
        (workdir / "sink-data").mkdir()
        command += ["--store", str(workdir / "sink-data")]
    return lambda: running(name, command, f"http://127.0.0.1:{port}", "/v2/",
                           workdir / f"{name.split()[0]}.log")


CEILING = "sink: receive+hash"
CEILING_DURABLE = "sink: +write+fsync"


def _actions(server: Server, run: int, args: argparse.Namespace,
             blob: Path) -> dict[str, Callable[[], float]]:
    """The workloads of one round on one server, each returning its figure."""
    size = args.blob_mib * MIB
    return {
        WORKLOADS[0]: lambda: asyncio.run(tag_pushes(server, f"{run}", args.tags,
                                                     args.in_flight)),
        WORKLOADS[1]: lambda: asyncio.run(repository_pushes(server, f"{run}", args.repos,
                                                            args.in_flight)),
        WORKLOADS[2]: lambda: size / MIB / push_monolithic(server, f"bench/mono{run}", blob,
                                                           size, renew_blob(blob)),
        WORKLOADS[3]: lambda: size / MIB / push_chunked(server, f"bench/chunked{run}", blob,
                                                        size, renew_blob(blob),
                                                        args.chunk_mib * MIB),
    }


def measure(servers: dict[str, Server], args: argparse.Namespace,
            blob: Path) -> dict[tuple[str, str], list[float]]:
    """Every chosen workload on every server, `args.rounds` times, servers alternating."""
    samples: dict[tuple[str, str], list[float]] = {}
    for run in range(args.rounds):
        for name, server in servers.items():
            actions = _actions(server, run, args, blob)
            for workload in args.workloads:
                if name.startswith("sink") and workload not in BLOB_WORKLOADS:
                    continue
                try:
                    value = actions[workload]()
                except (BenchError, OSError, aiohttp.ClientError) as error:
                    print(f"  {name}: {workload}: {error}", file=sys.stderr)
                    continue
                samples.setdefault((name, workload), []).append(value)
                print(f"  round {run + 1} {name:<16} {workload:<46} {value:10.1f}",
                      file=sys.stderr)
    return samples


def _row(label: str, ours: list[float] | None, theirs: list[float] | None) -> None:
    ours_cell = f"{statistics.median(ours):,.0f}" if ours else "error"
    theirs_cell = f"{statistics.median(theirs):,.0f}" if theirs else "error"
    ratio = (f"{statistics.median(ours) / statistics.median(theirs):.2f}x"
             if ours and theirs else "-")
    print(f"{label:<50}{ours_cell:>10}{theirs_cell:>11}{ratio:>8}")


def print_table(samples: dict[tuple[str, str], list[float]], names: list[str],
                args: argparse.Namespace) -> None:
    """One table per Berth database, then the sinks' ceiling: figure, reference, ratio
    (medians)."""
    print(f"\nwrites, median of {args.rounds} interleaved rounds; {args.in_flight} in flight; "
          f"{args.tags} tags, {args.repos} repositories, blob {args.blob_mib} MiB in "
          f"{args.chunk_mib} MiB chunks; {os.cpu_count()} CPUs")
    for name in names:
        if name.startswith("sink"):
            continue
        print(f"\n{'workload (' + name + ')':<50}{'Berth':>10}{'reference':>11}{'ratio':>8}")
        for workload in args.workloads:
            _row(workload, samples.get((name, workload)), samples.get(("reference", workload)))
    blob_workloads = [workload for workload in args.workloads if workload in BLOB_WORKLOADS]
    ceilings = [name for name in (CEILING, CEILING_DURABLE) if name in names]
    if ceilings and blob_workloads:
        print(f"\n{'ceiling of the stack (no registry)':<50}{'sink':>10}{'reference':>11}"
              f"{'ratio':>8}")
        for name in ceilings:
            for workload in blob_workloads:
                _row(f"{name}: {workload.removeprefix('blob push ')}",
                     samples.get((name, workload)), samples.get(("reference", workload)))


def main() -> int:
    """Start the servers, measure, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tags", type=int, default=2000, help="manifest PUTs by tag per round")
    parser.add_argument("--repos", type=int, default=5000, help="new repositories per round")
    parser.add_argument("--in-flight", type=int, default=32, help="concurrent requests")
    parser.add_argument("--blob-mib", type=int, default=256, help="blob size in MiB")
    parser.add_argument("--chunk-mib", type=int, default=8, help="PATCH size in MiB")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--no-postgres", action="store_true", help="only Berth on SQLite")
    parser.add_argument("--only", choices=["sqlite", "postgres"],
                        help="measure Berth on this database only (with the reference)")
    parser.add_argument("--baseline", type=Path,
                        help="another Berth source tree to measure too (SQLite)")
    parser.add_argument("--workloads", default=",".join(WORKLOAD_KEYS),
                        help="comma-separated subset of " + ",".join(WORKLOAD_KEYS))
    args = parser.parse_args()
    args.workloads = [WORKLOAD_KEYS[key] for key in args.workloads.split(",")]
    with tempfile.TemporaryDirectory(prefix="berth-write-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        blob = workdir / "blob.bin"
        make_blob(blob, args.blob_mib * MIB)
        starters: dict[str, Starter] = {}
        if args.only != "postgres":
            starters["berth sqlite"] = berth(workdir, "berth-sqlite")
        if not args.no_postgres and args.only != "sqlite":
            try:
                cluster = PostgresCluster(durable=True).start()
                stack.callback(cluster.stop)
                env = {"BERTH_DATABASE_URL": cluster.create_database("bench")}
                # A server database is upgraded deliberately, never by a starting hub.
                subprocess.run([sys.executable, "-m", "registry", "db", "upgrade", "--data",
                                str(workdir / "berth-postgres-data")], cwd=REPO_ROOT,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
                               check=True, capture_output=True)
                starters["berth postgres"] = berth(workdir, "berth-postgres", env=env)
            except PostgresUnavailableError as error:
                print(f"  no PostgreSQL: {error}", file=sys.stderr)
        if args.baseline is not None:
            starters["baseline sqlite"] = berth(workdir, "baseline-sqlite",
                                                source=args.baseline.resolve())
        starters["reference"] = reference(workdir)
        if any(workload in BLOB_WORKLOADS for workload in args.workloads):
            starters[CEILING] = sink(workdir, durable=False)
            starters[CEILING_DURABLE] = sink(workdir, durable=True)
        servers = {name: stack.enter_context(start()) for name, start in starters.items()}
        print(f"measuring {', '.join(servers)} (Python {sys.version.split()[0]}, "
              f"{REPO_ROOT}) ...", file=sys.stderr)
        samples = measure(servers, args, blob)
        # Before the clean-up: removing the data directories takes minutes.
        print_table(samples, [name for name in servers if name != "reference"], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
