"""Benchmark Berth against the reference registry (CNCF Distribution 2.8) on this machine.

Run: `python3 bench/registry_bench.py` from the repository root. In one run it starts Berth
(`python3 -m registry serve --no-auth`), Debian's `docker-registry` (filesystem storage, delete
enabled) and a bare sendfile file server, each on a free loopback port with data in a temporary
directory, measures each in turn, stops them and prints one table:

- blob pull MiB/s of a 256 MiB blob (one connection, large reads), also against the bare server;
- monolithic push MiB/s (POST a session, PUT the whole body with `?digest=`);
- chunked push MiB/s (8 MiB PATCHes with Content-Range, then PUT with `?digest=`);
- manifest GET and tag list requests/s measured with `wrk`, blob HEAD requests/s with curl's
  parallel mode (wrk 4.1 hangs on HEAD responses).

Byte rates are the median of `--runs` pushes or `--pull-runs` pulls; the client sends with
sendfile and reads into one preallocated buffer so that it is not the bottleneck. A server that
fails to start or a metric that fails is reported in its cell; the rest is still measured.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # a sibling module, not a package
    OCI_MANIFEST,
    REPO_ROOT,
    BenchError,
    Server,
    Starter,
    berth,
    expect,
    free_port,
    prepare_small_image,
    request,
    running,
    start_upload,
    with_digest,
    wrk_rate,
)

MIB = 1024 * 1024
HEAD_BATCH = 1000  # HEAD requests per curl run


def reference(workdir: Path) -> Starter:
    """How to run Debian's docker-registry with filesystem storage and delete enabled."""
    port = free_port()
    config = workdir / "reference.yml"
    # JSON is YAML: the registry reads this as its configuration file.
    config.write_text(json.dumps({
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "reference-data")},
                    "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "benchmark-only-secret"},
    }))
    command = ["docker-registry", "serve", str(config)]
    return lambda: running("reference", command, f"http://127.0.0.1:{port}", "/v2/",
                           workdir / "reference.log")


def bare(workdir: Path, blob: Path, flavour: str) -> Starter:
    """How to run a bare file server on the blob (`sendfile` or `aiohttp`)."""
    port = free_port()
    command = [sys.executable, str(REPO_ROOT / "bench" / "sendfile_server.py"), "--port",
               str(port), "--flavour", flavour, str(blob)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return lambda: running(f"bare {flavour}", command, f"http://127.0.0.1:{port}", "/healthz",
                           workdir / f"bare-{flavour}.log", env)


def push_monolithic(server: Server, repo: str, blob: Path, size: int, digest: str) -> float:
    """Push the blob as one PUT; return the elapsed seconds (POST included)."""
    started = time.perf_counter()
    location = start_upload(server, repo)
    response = request(server, "PUT", with_digest(location, digest),
                       {"Content-Type": "application/octet-stream"}, body_file=blob, count=size)
    expect(response, 201, "monolithic PUT")
    return time.perf_counter() - started


def push_chunked(server: Server, repo: str, blob: Path, size: int, digest: str,
                 chunk: int) -> float:
    """Push the blob as PATCHes of `chunk` bytes, then PUT; return the elapsed seconds."""
    started = time.perf_counter()
    location = start_upload(server, repo)
    for offset in range(0, size, chunk):
        count = min(chunk, size - offset)
        response = request(server, "PATCH", location,
                           {"Content-Type": "application/octet-stream",
                            "Content-Range": f"{offset}-{offset + count - 1}"},
                           body_file=blob, offset=offset, count=count)
        expect(response, 202, f"PATCH at {offset}")
        location = response.headers["Location"]
    expect(request(server, "PUT", with_digest(location, digest)), 201, "closing PUT")
    return time.perf_counter() - started


def pull(server: Server, target: str, size: int) -> float:
    """GET `target` and read `size` body bytes into one buffer; return the elapsed seconds."""
    buffer = bytearray(8 * MIB)
    view = memoryview(buffer)
    started = time.perf_counter()
    sock = socket.create_connection(server.hostport, timeout=120)
    try:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {server.hostport[0]}\r\n"
                     "Connection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            data = sock.recv(65536)
            if not data:
                raise BenchError("connection closed before the response headers")
            head += data
        header, _, received_body = head.partition(b"\r\n\r\n")
        if not header.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
            raise BenchError(f"pull: {header[:200]!r}")
        received = len(received_body)
        while received < size:
            n = sock.recv_into(view)
            if n == 0:
                raise BenchError(f"pull: connection closed after {received} of {size} bytes")
            received += n
    finally:
        sock.close()
    return time.perf_counter() - started


def curl_head_rate(url: str, args: argparse.Namespace, workdir: Path) -> float:
    """HEAD requests/s over `args.connections` keep-alive connections, sent by curl.

    wrk 4.1 waits for a body after a HEAD response, so curl's parallel mode sends these:
    batches of `HEAD_BATCH` requests until `args.duration` seconds have passed.
    """
    config = workdir / "head-urls.cfg"
    config.write_text(f'url = "{url}"\noutput = "/dev/null"\n' * HEAD_BATCH)
    command = ["curl", "--silent", "--head", "--parallel", "--parallel-max",
               str(args.connections), "--write-out", "%{http_code}\n", "--config", str(config)]
    sent, started = 0, time.perf_counter()
    while time.perf_counter() - started < args.duration:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                check=False)
        codes = result.stdout.split()
        if result.returncode != 0 or len(codes) != HEAD_BATCH or set(codes) != {"200"}:
            raise BenchError(f"curl HEAD: exit {result.returncode}, statuses {set(codes)}")
        sent += HEAD_BATCH
    return sent / (time.perf_counter() - started)


PUSH_METRICS = ("monolithic push MiB/s", "chunked push MiB/s")
PULL_METRIC = "blob pull MiB/s"
REQUEST_METRICS = ("manifest GET req/s", "blob HEAD req/s", "tag list req/s")
FAILURES = (BenchError, OSError, KeyError, http.client.HTTPException, subprocess.SubprocessError)


class Samples:
    """Figures per (server, metric); the first failure of a pair ends its sampling."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], list[float]] = {}
        self.errors: dict[tuple[str, str], str] = {}

    def take(self, server: str, metric: str, action: Callable[[], float]) -> None:
        """Run `action` for one sample, unless this pair already failed."""
        key = (server, metric)
        if key in self.errors:
            return
        try:
            self.values.setdefault(key, []).append(action())
        except FAILURES as error:
            self.errors[key] = f"error: {error}"[:200]
            print(f"  {server}: {metric}: {error}", file=sys.stderr)

    def fail(self, server: str, metrics: tuple[str, ...], error: Exception) -> None:
        """Record `error` for every metric in `metrics`."""
        for metric in metrics:
            self.errors.setdefault((server, metric), f"error: {error}"[:200])

    def result(self, server: str, metric: str) -> float | str | None:
        """The median, the error, or None when never measured."""
        key = (server, metric)
        if key in self.errors:
            return self.errors[key]
        values = self.values.get(key)
        return statistics.median(values) if values else None


def measure(registries: dict[str, Server], bare_servers: dict[str, Server], blob: Path,
            size: int, digest: str, args: argparse.Namespace, workdir: Path) -> Samples:
    """Every metric on every server, alternating servers run by run.

    The machine may be shared: alternating spreads any outside load over all servers
    instead of penalising whichever ran while it lasted.
    """
    samples = Samples()
    mib = size / MIB
    for run in range(args.runs):
        for name, server in registries.items():
            samples.take(name, PUSH_METRICS[0], partial(
                lambda server, run: mib / push_monolithic(
                    server, f"bench/mono{run}", blob, size, digest), server, run))
            samples.take(name, PUSH_METRICS[1], partial(
                lambda server, run: mib / push_chunked(
                    server, f"bench/chunked{run}", blob, size, digest, args.chunk_mib * MIB),
                server, run))
    targets: dict[str, tuple[Server, str]] = {
        name: (server, "/") for name, server in bare_servers.items()}
    for name, server in registries.items():
        try:
            push_monolithic(server, "bench/pull", blob, size, digest)
            targets[name] = (server, f"/v2/bench/pull/blobs/{digest}")
        except FAILURES as error:
            samples.fail(name, (PULL_METRIC,), error)
    for name, (server, target) in targets.items():
        samples.take(name, "pull warm-up", partial(pull, server, target, size))
    for _ in range(args.pull_runs):
        for name, (server, target) in targets.items():
            samples.take(name, PULL_METRIC, partial(
                lambda server, target: mib / pull(server, target, size), server, target))
    for name, server in registries.items():
        try:
            layer = prepare_small_image(server, "bench/small", tags=20)
        except FAILURES as error:
            samples.fail(name, REQUEST_METRICS, error)
            continue
        base = f"{server.url}/v2/bench/small"
        samples.take(name, REQUEST_METRICS[0], partial(
            wrk_rate, f"{base}/manifests/latest", args, {"Accept": OCI_MANIFEST}))
        samples.take(name, REQUEST_METRICS[1], partial(
            curl_head_rate, f"{base}/blobs/{layer}", args, workdir))
        samples.take(name, REQUEST_METRICS[2], partial(wrk_rate, f"{base}/tags/list", args))
    return samples


def make_blob(path: Path, size: int) -> str:
    """Write `size` random bytes to `path`; return their digest."""
    digest = hashlib.sha256()
    with path.open("wb") as file:
        for _ in range(0, size, 8 * MIB):
            data = os.urandom(min(8 * MIB, size - file.tell()))
            digest.update(data)
            file.write(data)
    return "sha256:" + digest.hexdigest()


def cell(value: float | str | None) -> str:
    """A table cell: a figure, or why there is none."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return "error"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ratio(numerator: float | str | None, denominator: float | str | None) -> str:
    """numerator / denominator as `1.23x`, when both are figures."""
    if isinstance(numerator, float) and isinstance(denominator, float) and denominator:
        return f"{numerator / denominator:.2f}x"
    return "-"


def main() -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blob-mib", type=int, default=256, help="blob size in MiB")
    parser.add_argument("--chunk-mib", type=int, default=8, help="PATCH size in MiB")
    parser.add_argument("--runs", type=int, default=3, help="runs per push metric")
    # A pull takes about a tenth of a second, so it needs more runs for a steady median.
    parser.add_argument("--pull-runs", type=int, default=15, help="runs per pull metric")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--only", choices=["berth", "reference"], help="measure one registry")
    args = parser.parse_args()
    size = args.blob_mib * MIB
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="berth-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        blob = workdir / "blob.bin"
        digest = make_blob(blob, size)
        starters = {"berth": berth(workdir), "reference": reference(workdir),
                    "bare sendfile": bare(workdir, blob, "sendfile"),
                    "bare aiohttp": bare(workdir, blob, "aiohttp")}
        if args.only:
            starters = {name: start for name, start in starters.items()
                        if name == args.only or name.startswith("bare")}
        running_servers: dict[str, Server] = {}
        start_errors: dict[str, BenchError] = {}
        for name, start in starters.items():
            try:
                running_servers[name] = stack.enter_context(start())
            except BenchError as error:
                print(f"  {name}: {error}", file=sys.stderr)
                start_errors[name] = error
        registries = {name: server for name, server in running_servers.items()
                      if not name.startswith("bare")}
        bare_servers = {name: server for name, server in running_servers.items()
                        if name.startswith("bare")}
        print(f"measuring {', '.join(running_servers)} ...", file=sys.stderr)
        samples = measure(registries, bare_servers, blob, size, digest, args, workdir)
        for name, start_error in start_errors.items():
            samples.fail(name, (*PUSH_METRICS, PULL_METRIC, *REQUEST_METRICS), start_error)
    print_table(samples, args, time.monotonic() - started)
    return 0


def print_table(samples: Samples, args: argparse.Namespace, elapsed: float) -> None:
    """Print the comparison table (and the errors behind any 'error' cell)."""
    print(f"\nblob {args.blob_mib} MiB, chunks {args.chunk_mib} MiB; median of {args.runs} runs "
          f"per push, {args.pull_runs} per pull, servers alternating; "
          f"{args.connections} connections for {args.duration} s (wrk; curl for HEAD); "
          f"{os.cpu_count()} CPUs; {elapsed:.0f} s in all")
    print(f"{'metric':<32}{'berth':>10}{'reference':>11}{'ratio':>8}")
    for metric in (PULL_METRIC, *PUSH_METRICS, *REQUEST_METRICS):
        ours, theirs = samples.result("berth", metric), samples.result("reference", metric)
        print(f"{metric:<32}{cell(ours):>10}{cell(theirs):>11}{ratio(ours, theirs):>8}")
    # The third column of these lines is a bare file server, not the reference.
    ours = samples.result("berth", PULL_METRIC)
    for name in ("bare sendfile", "bare aiohttp"):
        baseline = samples.result(name, PULL_METRIC)
        print(f"{'pull vs ' + name + ' server':<32}{cell(ours):>10}{cell(baseline):>11}"
              f"{ratio(ours, baseline):>8}")
    for (name, metric), error in sorted(samples.errors.items()):
        print(f"  {name} {metric}: {error}")


if __name__ == "__main__":
    sys.exit(main())
