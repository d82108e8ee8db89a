"""Shared pieces of the bench scripts: servers on loopback, raw HTTP, small images, wrk rates.

Scope: starting and stopping a server process (Berth or any other) on a free loopback port,
one-shot HTTP requests, pushing a tiny OCI image, and `wrk` request rates measured in
interleaved rounds and printed against a baseline. Not any one benchmark's metrics or table:
each script keeps its own. The scripts import this as a sibling module (`bench/` is not a
package).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the process helpers benches share with the tests

from tests.support.processes import stop_process  # noqa: E402

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
START_TIMEOUT = 30.0  # seconds a server may take to answer its first request


class BenchError(RuntimeError):
    """A server answered a benchmark request unexpectedly, or did not start."""


@dataclass(frozen=True)
class Server:
    """A running server under test."""

    name: str
    url: str

    @property
    def hostport(self) -> tuple[str, int]:
        """(host, port) to connect to."""
        parts = urllib.parse.urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 80


Starter = Callable[[], AbstractContextManager[Server]]


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(name: str, command: list[str], url: str, probe: str, log: Path,
            env: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> Iterator[Server]:
    """Start `command` in `cwd`, wait until `url + probe` answers, yield it, then stop it."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(url + probe):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise BenchError(f"{name} did not start (status {process.poll()}): {tail}")
            time.sleep(0.1)
        yield Server(name, url)
    finally:
        stop_process(process)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def berth(workdir: Path, name: str = "berth", *, auth: bool = False,
          env: dict[str, str] | None = None, source: Path = REPO_ROOT,
          data: Path | None = None) -> Starter:
    """How to run Berth (`--no-auth` unless `auth`) with an empty data directory.

    Args:
        workdir: where `<name>-data` and `<name>.log` go.
        name: the server's name in figures and file names.
        auth: run with authentication on.
        env: variables to add to this process's environment.
        source: the source tree to run (another checkout, to compare two versions).
        data: the data directory (default `<workdir>/<name>-data`; another server's to share it).
    """
    port = free_port()
    command = [sys.executable, "-m", "registry", "serve", "--listen", f"127.0.0.1:{port}",
               "--data", str(data or workdir / f"{name}-data")]
    if not auth:
        command.append("--no-auth")
    full_env = {**os.environ, "PYTHONPATH": str(source), **(env or {})}
    return lambda: running(name, command, f"http://127.0.0.1:{port}", "/v2/",
                           workdir / f"{name}.log", full_env, cwd=source)


def request(server: Server, method: str, target: str, headers: dict[str, str] | None = None,
            body: bytes = b"", body_file: Path | None = None, offset: int = 0,
            count: int = 0) -> http.client.HTTPResponse:
    """Send one request on a new connection (a file body goes by sendfile); return the response.

    The response body is read by the caller; the connection closes with the response.
    """
    parts = urllib.parse.urlsplit(target)
    path = urllib.parse.urlunsplit(("", "", parts.path, parts.query, "")) or "/"
    length = count if body_file is not None else len(body)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {server.hostport[0]}:{server.hostport[1]}",
             "Connection: close", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    sock = socket.create_connection(server.hostport, timeout=120)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    if body_file is not None:
        with body_file.open("rb") as file:
            sock.sendfile(file, offset, count)
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    sock.close()  # the response keeps its own reference until read
    return response


def expect(response: http.client.HTTPResponse, status: int, what: str) -> bytes:
    """Read the body; raise BenchError unless the status is `status`."""
    body = response.read()
    if response.status != status:
        raise BenchError(f"{what}: HTTP {response.status} {body[:300]!r}")
    return body


def start_upload(server: Server, repo: str, headers: dict[str, str] | None = None) -> str:
    """POST a new upload session; return its Location."""
    response = request(server, "POST", f"/v2/{repo}/blobs/uploads/", headers)
    expect(response, 202, "start upload")
    return response.headers["Location"]


def with_digest(location: str, digest: str) -> str:
    """The upload location with `digest=` added to its query."""
    parts = urllib.parse.urlsplit(location)
    query = (parts.query + "&" if parts.query else "") + urllib.parse.urlencode(
        {"digest": digest})
    return urllib.parse.urlunsplit(("", "", parts.path, query, ""))


def push_small(server: Server, repo: str, data: bytes,
               headers: dict[str, str] | None = None) -> str:
    """Push a small blob in one PUT (with `headers`, e.g. credentials); return its digest."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    response = request(server, "PUT", with_digest(start_upload(server, repo, headers), digest),
                       {**(headers or {}), "Content-Type": "application/octet-stream"},
                       body=data)
    expect(response, 201, "small blob PUT")
    return digest


def prepare_small_image(server: Server, repo: str, tags: int,
                        headers: dict[str, str] | None = None) -> str:
    """Push a tiny OCI image tagged `latest` and `tags` more; return its layer's digest.

    Args:
        server: where to push.
        repo: the repository.
        tags: how many tags `v0`, `v1`, ... besides `latest`.
        headers: sent with every request (credentials, for a hub with auth).
    """
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = os.urandom(1024)
    config_digest = push_small(server, repo, config, headers)
    layer_digest = push_small(server, repo, layer, headers)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": len(layer)}],
    }).encode()
    for tag in ["latest", *(f"v{number}" for number in range(tags))]:
        response = request(server, "PUT", f"/v2/{repo}/manifests/{tag}",
                           {**(headers or {}), "Content-Type": OCI_MANIFEST}, body=manifest)
        expect(response, 201, f"manifest PUT {tag}")
    return layer_digest


def wrk_rate(url: str, args: argparse.Namespace, headers: dict[str, str] | None = None,
             script: Path | None = None) -> float:
    """Requests/s that `wrk` measures on `url` (with a Lua `script`, e.g. one that POSTs a
    body); raise BenchError on errors or non-2xx."""
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    result = subprocess.run([*command, url], capture_output=True, text=True,
                            timeout=args.duration + 30, check=False)
    match = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if result.returncode != 0 or match is None:
        raise BenchError(f"wrk failed: {result.stdout} {result.stderr}")
    for problem in ("Non-2xx or 3xx responses", "Socket errors"):
        if problem in result.stdout:
            line = next(line for line in result.stdout.splitlines() if problem in line)
            raise BenchError(f"wrk: {line.strip()}")
    return float(match.group(1))


def add_round_options(parser: argparse.ArgumentParser) -> None:
    """The options of `interleaved_rates`: wrk's duration, connections and threads, and the
    rounds."""
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")


@dataclass(frozen=True)
class RateCase:
    """One URL to measure with `wrk`, with the headers to send (and a Lua script, if any)."""

    label: str
    url: str
    headers: dict[str, str]
    script: Path | None = None


@dataclass(frozen=True)
class Rates:
    """Median requests/s per case label, and the last error of any case that failed."""

    medians: dict[str, float]
    errors: dict[str, str]


def interleaved_rates(cases: list[RateCase], args: argparse.Namespace) -> Rates:
    """Measure every case once per round, for `args.rounds` rounds; the median of each.

    Rounds interleave the cases, so that load from elsewhere on the host hits every case alike.
    """
    samples: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    for _ in range(args.rounds):
        for case in cases:
            try:
                rate = wrk_rate(case.url, args, case.headers, case.script)
            except BenchError as error:
                errors[case.label] = f"error: {error}"
                continue
            samples.setdefault(case.label, []).append(rate)
    medians = {label: statistics.median(values) for label, values in samples.items()}
    return Rates(medians, errors)


def print_rates(rates: Rates, args: argparse.Namespace, baseline: str, column: str,
                width: int, what: str = "manifest GET") -> None:
    """Print the table of `what` requests: each case's rate and its ratio to `baseline`'s.

    Args:
        rates: what `interleaved_rates` measured.
        args: the options of `add_round_options`.
        baseline: the label of the case the others are compared with.
        column: the ratio column's heading.
        width: the case column's width.
        what: the requests measured, for the heading.
    """
    base = rates.medians.get(baseline)
    print(f"{what}, {args.connections} connections, {args.duration} s per run (wrk), "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'case':<{width}} {'req/s':>10} {column:>{len(column) + 1}}")
    for label, rate in rates.medians.items():
        ratio = f"{rate / base:>{len(column) + 1}.2f}" if base else ""
        print(f"{label:<{width}} {rate:>10.0f} {ratio}")
    for label, error in rates.errors.items():
        print(f"{label:<{width}} {error}")
