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
  the hub's `/token` endpoint issued to the repository's owner, the GUN being private) and as
  the open registry (`--no-auth`);
- Berth's stand-alone trust server (`trust.server.app.create_trust_app`) with the memory store,
  and with the SQLite store (on an engine set up as the hub's: WAL, `synchronous=NORMAL`);
- a bare aiohttp hello-world over the same TLS: the ceiling of the stack, GETs only.

`--baseline DIR` also runs the hub with auth from another checkout (before/after in one run).

For each it creates a repository with Berth's signer (server-held snapshot and timestamp keys,
as `docker push` does), then measures:

- metadata GET requests/s with `wrk` (`--connections` connections, `--seconds` s): the current
  `timestamp.json` (what every client fetches first) and `targets.<sha256>.json` (by hash);
- publish latency: `--publishes` sequential atomic POSTs of a new targets version (signed
  beforehand, so only the server's work is timed), median and 90th percentile in ms. Each
  publish makes the server validate, sign a snapshot and a timestamp, and store them.

Both servers share the machine with the load generator, so compare rows, not absolutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
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

from harness import free_port  # noqa: E402  (a sibling module, not a package)

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


def serve_hello(port: int, cert: str, key: str) -> None:
    """Internal mode: the stack's ceiling, an aiohttp app answering every GET with a constant."""
    from aiohttp import web

    body = b"{}" * 256  # about the size of a timestamp.json

    async def hello(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    web.run_app(app, host="127.0.0.1", port=port, ssl_context=context, print=None, access_log=None)


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


def wrk(url: str, connections: int, seconds: int, authorization: str | None = None) -> float:
    header = ["-H", f"Authorization: {authorization}"] if authorization else []
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", *header, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{non_2xx.group(1)} failed requests for {url}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output: {out}")
    return float(match.group(1))


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


def measure(server: Server, context: ssl.SSLContext, args: argparse.Namespace, work: Path) -> dict:
    if server.label.startswith("aiohttp"):
        return {"timestamp GET/s": wrk(f"{server.url}/hello", args.connections, args.seconds)}
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
    authorization = bearer_token(f"{base}/timestamp.json", context) if server.auth else None
    result = {
        "timestamp GET/s": wrk(
            f"{base}/timestamp.json", args.connections, args.seconds, authorization
        ),
        "targets-by-hash GET/s": wrk(
            f"{base}/targets.{targets_hash}.json", args.connections, args.seconds, authorization
        ),
    }
    # Publish latency: pre-signed targets versions, POSTed one after another.
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
    latencies = []
    for document in documents:
        started = time.perf_counter()
        remote.publish({"targets": document})
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    result["publish median ms"] = statistics.median(latencies)
    result["publish p90 ms"] = latencies[int(0.9 * (len(latencies) - 1))]
    return result


@dataclass
class Candidate:
    """A server to start and measure."""

    label: str
    command: list[str]
    port: int
    source: Path = REPO_ROOT  # the checkout whose code it runs
    env: dict[str, str] = field(default_factory=dict)
    data: str = ""  # a hub's data directory


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
) -> Candidate:
    port = free_port()
    data = str(work / f"hub-{port}")
    command = [sys.executable, "-m", "registry", "serve", "--listen", f"127.0.0.1:{port}"]
    # `-m` imports the hub from the working directory: `source`'s code.
    command += ["--data", data, "--tls-cert", str(cert), "--tls-key", str(key), *options]
    return Candidate(label, command, port, source, env or {}, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--publishes", type=int, default=100)
    parser.add_argument("--no-postgres", action="store_true", help="skip the durable pair")
    parser.add_argument("--serve-berth", nargs=4, metavar=("PORT", "CERT", "KEY", "STORE"))
    parser.add_argument("--serve-hello", nargs=3, metavar=("PORT", "CERT", "KEY"))
    parser.add_argument(
        "--baseline", type=Path, help="also run the hub with auth from this checkout (before/after)"
    )
    args = parser.parse_args()
    if args.serve_berth:
        port, cert, key, store = args.serve_berth
        serve_berth(int(port), cert, key, store)
        return
    if args.serve_hello:
        port, cert, key = args.serve_hello
        serve_hello(int(port), cert, key)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed")
    with tempfile.TemporaryDirectory(prefix="trust-bench-") as temporary, ExitStack() as stack:
        work = Path(temporary)
        certificates = make_dev_certificates(work)
        cert, key = certificates.cert, certificates.key
        context = ssl.create_default_context(cafile=str(certificates.ca_cert))
        rows: dict[str, dict] = {}
        candidates: list[Candidate] = []
        notary = shutil.which("notary-server") is not None
        if notary:
            candidates.append(
                notary_candidate(NOTARY_MEMORY, work, cert, key, {"backend": "memory"})
            )
        hubs = [(HUB_WITH_AUTH, [], REPO_ROOT)]
        if args.baseline is not None:
            hubs.append((f"{HUB_WITH_AUTH} baseline", [], args.baseline.resolve()))
        hubs.append(("Berth hub (--no-auth)", ["--no-auth"], REPO_ROOT))
        for label, options, source in hubs:
            candidates.append(hub_candidate(label, work, cert, key, options, source))
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
            command = [
                sys.executable,
                __file__,
                "--serve-berth",
                str(port),
                str(cert),
                str(key),
                store,
            ]
            candidates.append(Candidate(label, command, port))
        port = free_port()
        hello = [sys.executable, __file__, "--serve-hello", str(port), str(cert), str(key)]
        candidates.append(Candidate("aiohttp hello-world (ceiling)", hello, port))
        for candidate in candidates:
            label = candidate.label
            auth = label.startswith(HUB_WITH_AUTH) or label == HUB_POSTGRES
            url = f"https://127.0.0.1:{candidate.port}"
            server = Server(
                label,
                candidate.command,
                url,
                work,
                auth=auth,
                cwd=candidate.source,
                env=candidate.env,
            )
            try:
                server.wait(context)
                rows[label] = measure(server, context, args, work)
            except Exception as error:  # one failing server must not hide the others
                rows[label] = {"error": str(error)}
            finally:
                server.stop()
    columns = ["timestamp GET/s", "targets-by-hash GET/s", "publish median ms", "publish p90 ms"]
    print(f"{'server':<36}" + "".join(f"{c:>22}" for c in columns))
    for label, row in rows.items():
        if "error" in row:
            print(f"{label:<36}  error: {row['error']}")
            continue
        print(
            f"{label:<36}"
            + "".join(f"{row[c]:>22.1f}" if c in row else f"{'-':>22}" for c in columns)
        )
    for hub_label, reference_label in (
        (HUB_WITH_AUTH, NOTARY_MEMORY),
        (HUB_POSTGRES, NOTARY_POSTGRES),
    ):
        reference = rows.get(reference_label, {})
        hub = rows.get(hub_label, {})
        if "error" not in reference and "error" not in hub and reference and hub:
            ratios = [f"{c} {hub[c] / reference[c]:.2f}x" for c in columns if c in reference]
            print(f"{hub_label} / {reference_label}: " + ", ".join(ratios))


if __name__ == "__main__":
    main()
