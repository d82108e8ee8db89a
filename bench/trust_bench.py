"""Benchmark Berth's trust server against the reference notary-server on this machine.

Run: `python3 bench/trust_bench.py` from the repository root. In one run it starts, each on a
free loopback port over TLS with a throw-away certificate:

- Debian's `notary-server` 0.7 (memory storage, its local ed25519 signer);
- with PostgreSQL installed (Debian's 15, a throw-away cluster with fsync on), a durable pair:
  `notary-server` on PostgreSQL (its schema created from the table layout notary's migrations
  describe) and the Berth hub with auth on PostgreSQL. Notary's memory store keeps nothing
  across a restart, while every Berth publish is on disk when answered: this pair compares
  publishes that are both durable;
- the Berth hub (`python3 -m registry serve`, SQLite, filesystem storage), which serves the
  trust routes on its own origin: with authentication (the default; wrk sends the bearer token
  the hub's `/token` endpoint issued to the repository's owner, the GUN being private), the
  same with `--workers 2` (two processes on the port, as notary-server's Go runtime uses both
  cores), and as the open registry (`--no-auth`);
- Berth's stand-alone trust server (`trust.server.app.create_trust_app`) with the memory store,
  and with the SQLite store (on an engine set up as the hub's: WAL, `synchronous=FULL`);
- a bare aiohttp hello-world over the same TLS, in one process and in two: the ceiling of the
  stack, GETs only.

`--baseline DIR` also runs the hub with auth from another checkout (before/after in one run).

Every server runs for the whole run. In each it creates a repository with Berth's signer
(server-held snapshot and timestamp keys, as `docker push` does), then measures, in
`--rounds` interleaved rounds (each round measures every server once, so that load from
elsewhere on the host hits them alike):

- metadata GET requests/s with `wrk` (`--connections` connections, `--duration` s per run,
  median of the rounds): the current `timestamp.json` (what every client fetches first) and
  `targets.<sha256>.json` (by hash);
- publish latency: `--publishes` sequential atomic POSTs of a new targets version (signed
  beforehand, so only the server's work is timed; a share in each round), median and 90th
  percentile in ms. Each publish makes the server validate, sign a snapshot and a timestamp,
  and store them.

The servers share the machine with the load generator, so compare rows, not absolutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402  (a sibling module, not a package)
    RateCase,
    add_round_options,
    free_port,
    interleaved_rates,
)

from registry.cli.workers import die_with_parent  # noqa: E402
from registry.tlscerts import make_dev_certificates  # noqa: E402
from tests.support.postgres import PostgresCluster, PostgresUnavailableError  # noqa: E402
from trust.keystore import KeyStore  # noqa: E402
from trust.remote import HttpRemoteStore  # noqa: E402
from trust.remote_auth import TokenAuthenticator  # noqa: E402
from trust.signer import Repository  # noqa: E402
from trust.tuf.model import FileMeta, Metadata, Targets, format_time  # noqa: E402

# With auth on, a GUN's first path component must be a namespace: the admin's own.
GUN = "127.0.0.1:5000/admin/app"
ADMIN_PASSWORD = "bench-admin-password"
HUB_WITH_AUTH = "Berth hub (auth, SQLite)"
HUB_TWO_PROCESSES = "Berth hub (auth, SQLite, --workers 2)"
HELLO = "aiohttp hello-world (ceiling)"
NOTARY_MEMORY = "notary-server 0.7 (memory)"
NOTARY_POSTGRES = "notary-server 0.7 (PostgreSQL)"
HUB_POSTGRES = "Berth hub (auth, PostgreSQL)"
# notary-server's tables on PostgreSQL (it creates none itself): its TUF files, unique per
# (gun, role, version), and its change feed.
NOTARY_SCHEMA = """
CREATE TABLE tuf_files (
    id serial PRIMARY KEY,
    created_at timestamp, updated_at timestamp, deleted_at timestamp,
    gun varchar(255) NOT NULL, role varchar(255) NOT NULL, version integer NOT NULL,
    data bytea NOT NULL, sha256 char(64),
    UNIQUE (gun, role, version)
);
CREATE INDEX tuf_files_sha256_idx ON tuf_files (sha256);
CREATE TABLE change_category (category varchar(20) PRIMARY KEY);
INSERT INTO change_category VALUES ('update'), ('deletion');
CREATE TABLE changefeed (
    id serial PRIMARY KEY,
    created_at timestamp DEFAULT CURRENT_TIMESTAMP,
    gun varchar(255) NOT NULL, version integer NOT NULL, sha256 char(64),
    category varchar(20) NOT NULL DEFAULT 'update' REFERENCES change_category
);
CREATE INDEX idx_changefeed_gun ON changefeed (gun);
"""
START_TIMEOUT = 30.0  # seconds a server may take to answer its health check
TIMESTAMP = "timestamp GET/s"
BY_HASH = "targets-by-hash GET/s"
PUBLISH_MEDIAN = "publish median ms"
PUBLISH_P90 = "publish p90 ms"


def serve_berth(port: int, cert: str, key: str, store: str) -> None:
    """Internal mode: run Berth's stand-alone trust server in this process."""
    import asyncio

    from aiohttp import web

    from registry.db.engine import create_engine
    from trust.server.app import create_trust_app
    from trust.server.settings import TrustServerSettings
    from trust.server.store.memory import MemoryMetaStore
    from trust.server.store.sql import SqlMetaStore, create_tables

    async def make_app() -> web.Application:
        if store == "memory":
            meta_store = MemoryMetaStore()
        else:
            engine = create_engine(f"sqlite:///{store}")
            await create_tables(engine)
            meta_store = SqlMetaStore(engine)
        return create_trust_app(meta_store, TrustServerSettings(b"bench-secret-0123456789"))

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = asyncio.new_event_loop().run_until_complete(make_app())
    web.run_app(app, host="127.0.0.1", port=port, ssl_context=context, print=None)


def serve_hello(port: int, cert: str, key: str, processes: int) -> None:
    """Internal mode: the stack's ceiling, an aiohttp app answering every GET with a constant,
    in `processes` processes on the port (SO_REUSEPORT)."""
    from aiohttp import web

    for _ in range(processes - 1):
        if os.fork() == 0:  # a copy that ends with this process, as the hub's workers do
            die_with_parent()
            break

    body = b"{}" * 256  # about the size of a timestamp.json

    async def hello(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        ssl_context=context,
        print=None,
        access_log=None,
        reuse_port=True,
    )


class Server:
    """A trust server subprocess."""

    def __init__(
        self,
        label: str,
        command: list[str],
        url: str,
        workdir: Path,
        *,
        auth: bool = False,
        cwd: Path = REPO_ROOT,
        env: dict[str, str] | None = None,
    ) -> None:
        self.label, self.url, self.auth = label, url, auth
        self.log = (workdir / f"{label.replace(' ', '_')}.log").open("wb")
        env = {**os.environ, "BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD, **(env or {})}
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, cwd=cwd, env=env
        )

    def wait(self, context: ssl.SSLContext) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited")
            try:
                with urllib.request.urlopen(f"{self.url}/v2/", context=context, timeout=2):
                    return
            except urllib.error.HTTPError:  # a hub with auth answers the ping with 401
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.label} did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def bearer_token(url: str, context: ssl.SSLContext) -> str:
    """The `Authorization` value wrk sends: the token the hub's `/token` issues to its admin for
    pulling `url` (asked for as a client does, by answering the 401 challenge)."""
    try:
        with urllib.request.urlopen(url, context=context, timeout=10):
            raise RuntimeError(f"{url} answered without credentials")
    except urllib.error.HTTPError as exc:
        if exc.code != 401:
            raise
        challenge = exc.headers["WWW-Authenticate"]
    authorization = TokenAuthenticator("admin", ADMIN_PASSWORD, ssl_context=context)(challenge)
    if authorization is None:
        raise RuntimeError("the hub issued no token")
    return authorization


@dataclass
class Prepared:
    """A started server with a signed repository: what its rounds measure."""

    label: str
    get_urls: dict[str, str]  # column -> URL
    headers: dict[str, str]
    remote: HttpRemoteStore | None = None
    documents: list[bytes] = field(default_factory=list)  # targets versions, in order
    latencies: list[float] = field(default_factory=list)  # ms


def prepare(
    server: Server, context: ssl.SSLContext, args: argparse.Namespace, work: Path
) -> Prepared:
    """Create the repository (`sign_target` 20 times), and sign `args.publishes` more targets
    versions beforehand, so that only the server's work is timed."""
    if server.label.startswith(HELLO):
        return Prepared(server.label, {TIMESTAMP: f"{server.url}/hello"}, {})
    authenticator = (
        TokenAuthenticator("admin", ADMIN_PASSWORD, ssl_context=context) if server.auth else None
    )
    remote = HttpRemoteStore(server.url, GUN, ssl_context=context, authenticator=authenticator)
    keys = KeyStore(work / f"keys-{server.process.pid}")
    repository = Repository(GUN, remote, keys, lambda role: "bench-passphrase")
    repository.initialize()
    for index in range(20):
        repository.sign_target(f"tag-{index}", f"{index:064x}", 1000 + index)
    trusted = repository.refresh()
    targets_hash = trusted.snapshot.signed.meta["targets"].digest("sha256").hex()
    base = f"{server.url}/v2/{GUN}/_trust/tuf"
    headers = (
        {"Authorization": bearer_token(f"{base}/timestamp.json", context)} if server.auth else {}
    )
    urls = {TIMESTAMP: f"{base}/timestamp.json", BY_HASH: f"{base}/targets.{targets_hash}.json"}
    targets_key = keys.get(keys.find("targets", GUN)[0], "bench-passphrase")
    current = Metadata.from_bytes(trusted.raw["targets"], Targets)
    documents = []
    for step in range(args.publishes):
        current.signed.version += 1
        current.signed.expires = format_time(dt.datetime.now(dt.UTC) + dt.timedelta(days=365))
        current.signed.targets[f"bench-{step}"] = FileMeta.for_digest(f"{step:064x}", step)
        current.signatures = []
        current.sign(targets_key)
        documents.append(current.to_bytes())
    return Prepared(server.label, urls, headers, remote, documents)


def publish_some(prepared: Prepared, count: int) -> None:
    """POST the next `count` prepared versions one after another, timing each."""
    assert prepared.remote is not None
    for _ in range(count):
        document = prepared.documents[len(prepared.latencies)]
        started = time.perf_counter()
        prepared.remote.publish({"targets": document})
        prepared.latencies.append((time.perf_counter() - started) * 1000)


def listening_sockets(port: int) -> int:
    """How many sockets listen on `port` (a hub with `--workers N` has N once all have started)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                local, state = fields[1], fields[3]
                count += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return count


def wait_for_listeners(candidate: Candidate) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while listening_sockets(candidate.port) < candidate.processes:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{candidate.label}: not every process listens")
        time.sleep(0.1)


@dataclass
class Candidate:
    """A server to start and measure."""

    label: str
    command: list[str]
    port: int
    source: Path = REPO_ROOT  # the checkout whose code it runs
    env: dict[str, str] = field(default_factory=dict)
    data: str = ""  # a hub's data directory
    auth: bool = False  # wrk and the signer authenticate as the hub's admin
    processes: int = 1  # processes listening on the port


def notary_candidate(label: str, work: Path, cert: Path, key: Path, storage: dict) -> Candidate:
    port = free_port()
    config = {
        "server": {
            "http_addr": f"127.0.0.1:{port}",
            "tls_cert_file": str(cert),
            "tls_key_file": str(key),
        },
        "trust_service": {"type": "local"},
        "logging": {"level": "error"},
        "storage": storage,
    }
    path = work / f"notary-{port}.json"
    path.write_text(json.dumps(config))
    return Candidate(label, ["notary-server", "-config", str(path)], port)


def hub_candidate(
    label: str,
    work: Path,
    cert: Path,
    key: Path,
    options: list[str],
    source: Path,
    env: dict[str, str] | None = None,
    *,
    workers: int = 1,
) -> Candidate:
    port = free_port()
    data = str(work / f"hub-{port}")
    command = [sys.executable, "-m", "registry", "serve", "--listen", f"127.0.0.1:{port}"]
    # `-m` imports the hub from the working directory: `source`'s code.
    command += ["--data", data, "--tls-cert", str(cert), "--tls-key", str(key), *options]
    command += ["--workers", str(workers)]
    auth = "--no-auth" not in options
    return Candidate(label, command, port, source, env or {}, data, auth, workers)


def candidates_for(
    args: argparse.Namespace, work: Path, cert: Path, key: Path, stack: ExitStack
) -> list[Candidate]:
    """Every server of the run (over TLS with `cert` and `key`), in the order of the table."""
    candidates: list[Candidate] = []
    notary = shutil.which("notary-server") is not None
    if notary:
        candidates.append(notary_candidate(NOTARY_MEMORY, work, cert, key, {"backend": "memory"}))
    hubs = [(HUB_WITH_AUTH, [], REPO_ROOT, 1), (HUB_TWO_PROCESSES, [], REPO_ROOT, 2)]
    if args.baseline is not None:
        hubs.append((f"{HUB_WITH_AUTH} baseline", [], args.baseline.resolve(), 1))
    hubs.append(("Berth hub (--no-auth)", ["--no-auth"], REPO_ROOT, 1))
    for label, options, source, workers in hubs:
        candidates.append(hub_candidate(label, work, cert, key, options, source, workers=workers))
    if not args.no_postgres:
        try:
            cluster = PostgresCluster(durable=True).start()
        except PostgresUnavailableError as error:
            print(f"no PostgreSQL: {error}", file=sys.stderr)
        else:
            stack.callback(cluster.stop)
            if notary:
                cluster.psql("CREATE DATABASE notary")
                cluster.psql(NOTARY_SCHEMA, "notary")
                address = f"postgres://postgres@127.0.0.1:{cluster.port}/notary?sslmode=disable"
                storage = {"backend": "postgres", "db_url": address}
                candidates.append(notary_candidate(NOTARY_POSTGRES, work, cert, key, storage))
            database = {"BERTH_DATABASE_URL": cluster.create_database("bench")}
            hub = hub_candidate(HUB_POSTGRES, work, cert, key, [], REPO_ROOT, database)
            # A server database is upgraded deliberately, never by a starting hub.
            upgrade = [sys.executable, "-m", "registry", "db", "upgrade", "--data", hub.data]
            subprocess.run(
                upgrade,
                cwd=REPO_ROOT,
                env={**os.environ, **database},
                check=True,
                capture_output=True,
            )
            candidates.append(hub)
    for label, store in (("Berth (memory)", "memory"), ("Berth (SQLite)", str(work / "t.db"))):
        port = free_port()
        command = [sys.executable, __file__, "--serve-berth", str(port), str(cert), str(key), store]
        candidates.append(Candidate(label, command, port))
    for processes, label in ((1, HELLO), (2, f"{HELLO}, 2 processes")):
        port = free_port()
        hello = [sys.executable, __file__, "--serve-hello", str(port), str(cert), str(key)]
        hello.append(str(processes))
        candidates.append(Candidate(label, hello, port, processes=processes))
    return candidates


def measure_all(
    candidates: list[Candidate],
    args: argparse.Namespace,
    work: Path,
    ca_cert: Path,
    stack: ExitStack,
) -> dict[str, dict]:
    """Start every server, then measure them all in interleaved rounds: each round runs every
    server's GETs, then a share of every server's publishes, so that load from elsewhere on the
    host hits every server alike."""
    context = ssl.create_default_context(cafile=str(ca_cert))
    rows: dict[str, dict] = {}
    ready: list[Prepared] = []
    for candidate in candidates:
        url = f"https://127.0.0.1:{candidate.port}"
        server = Server(
            candidate.label,
            candidate.command,
            url,
            work,
            auth=candidate.auth,
            cwd=candidate.source,
            env=candidate.env,
        )
        stack.callback(server.stop)
        try:
            server.wait(context)
            wait_for_listeners(candidate)
            ready.append(prepare(server, context, args, work))
        except Exception as error:  # one failing server must not hide the others
            rows[candidate.label] = {"error": str(error)}
    cases = [
        RateCase(f"{prepared.label}\t{column}", url, prepared.headers)
        for prepared in ready
        for column, url in prepared.get_urls.items()
    ]
    rates = interleaved_rates(cases, args)
    for round_index in range(args.rounds):
        share = args.publishes * (round_index + 1) // args.rounds
        for prepared in ready:
            if prepared.remote is not None and label_ok(rows, prepared.label):
                try:
                    publish_some(prepared, share - len(prepared.latencies))
                except Exception as error:
                    rows[prepared.label] = {"error": f"publish: {error}"}
    for prepared in ready:
        if not label_ok(rows, prepared.label):
            continue
        row = rows.setdefault(prepared.label, {})
        for column in prepared.get_urls:
            key = f"{prepared.label}\t{column}"
            if key in rates.errors:
                row["error"] = rates.errors[key]
            elif key in rates.medians:
                row[column] = rates.medians[key]
        if prepared.latencies:
            latencies = sorted(prepared.latencies)
            row[PUBLISH_MEDIAN] = statistics.median(latencies)
            row[PUBLISH_P90] = latencies[int(0.9 * (len(latencies) - 1))]
    return rows


def label_ok(rows: dict[str, dict], label: str) -> bool:
    return "error" not in rows.get(label, {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_round_options(parser)
    parser.set_defaults(connections=16, threads=2)
    parser.add_argument("--publishes", type=int, default=120, help="publishes per server")
    parser.add_argument("--no-postgres", action="store_true", help="skip the durable pair")
    parser.add_argument("--serve-berth", nargs=4, metavar=("PORT", "CERT", "KEY", "STORE"))
    parser.add_argument("--serve-hello", nargs=4, metavar=("PORT", "CERT", "KEY", "PROCESSES"))
    parser.add_argument(
        "--baseline", type=Path, help="also run the hub with auth from this checkout (before/after)"
    )
    args = parser.parse_args()
    if args.serve_berth:
        port, cert, key, store = args.serve_berth
        serve_berth(int(port), cert, key, store)
        return
    if args.serve_hello:
        port, cert, key, processes = args.serve_hello
        serve_hello(int(port), cert, key, int(processes))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed")
    with tempfile.TemporaryDirectory(prefix="trust-bench-") as temporary, ExitStack() as stack:
        work = Path(temporary)
        certificates = make_dev_certificates(work)
        cert, key = certificates.cert, certificates.key
        candidates = candidates_for(args, work, cert, key, stack)
        rows = measure_all(candidates, args, work, certificates.ca_cert, stack)
    print(
        f"{args.connections} connections, {args.duration} s per wrk run, {args.publishes} "
        f"publishes per server; medians of {args.rounds} interleaved rounds"
    )
    columns = [TIMESTAMP, BY_HASH, PUBLISH_MEDIAN, PUBLISH_P90]
    print(f"{'server':<38}" + "".join(f"{c:>22}" for c in columns))
    for candidate in candidates:
        row = rows.get(candidate.label, {})
        if "error" in row:
            print(f"{candidate.label:<38}  error: {row['error']}")
            continue
        print(
            f"{candidate.label:<38}"
            + "".join(f"{row[c]:>22.1f}" if c in row else f"{'-':>22}" for c in columns)
        )
    for hub_label, reference_label in (
        (HUB_WITH_AUTH, NOTARY_MEMORY),
        (HUB_TWO_PROCESSES, NOTARY_MEMORY),
        (HUB_POSTGRES, NOTARY_POSTGRES),
    ):
        reference = rows.get(reference_label, {})
        hub = rows.get(hub_label, {})
        if "error" not in reference and "error" not in hub and reference and hub:
            ratios = [f"{c} {hub[c] / reference[c]:.2f}x" for c in columns if c in reference]
            print(f"{hub_label} / {reference_label}: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
