"""Manifest GET requests/s with and without authentication, measured with `wrk`.

Run: `python3 bench/auth_bench.py` from the repository root. It starts two hubs with empty
data directories on free loopback ports, pushes a small image and measures `GET
/v2/<name>/manifests/latest` (pull counting included) for:

- open registry: `berth-hub serve --no-auth`, no credentials (the baseline);
- anonymous token: a hub with auth, a public repository, an anonymous bearer token;
- user token: the same hub, a private repository, a bearer token issued to its owner;
- basic password / basic access token: `Authorization: Basic` on every request (checked
  against the database each time; the argon2 result is remembered per process).

It prints one table with each rate and its ratio to the baseline.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registry_bench import (  # a sibling script, not a package
    OCI_MANIFEST,
    REPO_ROOT,
    BenchError,
    Server,
    expect,
    free_port,
    request,
    running,
    wrk_rate,
)

ADMIN_PASSWORD = "bench-admin-password"
ALICE_PASSWORD = "bench-alice-password"


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def start_hub(workdir: Path, name: str, *, auth: bool):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    command = [sys.executable, "-m", "registry", "serve", "--listen", f"127.0.0.1:{port}",
               "--data", str(workdir / f"{name}-data")]
    if not auth:
        command.append("--no-auth")
    return running(name, command, f"http://127.0.0.1:{port}", "/v2/", workdir / f"{name}.log",
                   env)


def call(server: Server, method: str, path: str, headers: dict[str, str], body: object = None,
         status: int = 200) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    return expect(request(server, method, path, headers, body=data), status, f"{method} {path}")


def token(server: Server, scope: str, credentials: dict[str, str] | None) -> str:
    query = urllib.parse.urlencode({"service": "berth", "scope": scope})
    body = call(server, "GET", f"/token?{query}", credentials or {})
    return str(json.loads(body)["token"])


def push_as(server: Server, repo: str, credentials: dict[str, str]) -> None:
    """Push a tiny OCI image tagged `latest` with the given credentials."""
    config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    layer = os.urandom(1024)
    descriptors = []
    for data, media_type in ((config, "application/vnd.oci.image.config.v1+json"),
                             (layer, "application/vnd.oci.image.layer.v1.tar+gzip")):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        expect(request(server, "POST", f"/v2/{repo}/blobs/uploads/?digest={digest}",
                       credentials, body=data), 201, "blob POST")
        descriptors.append({"mediaType": media_type, "digest": digest, "size": len(data)})
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                           "config": descriptors[0], "layers": descriptors[1:]}).encode()
    expect(request(server, "PUT", f"/v2/{repo}/manifests/latest",
                   {**credentials, "Content-Type": OCI_MANIFEST}, body=manifest),
           201, "manifest PUT")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="berth-auth-bench-") as tmp:
        workdir = Path(tmp)
        with start_hub(workdir, "open", auth=False) as open_hub, \
                start_hub(workdir, "auth", auth=True) as server:
            push_as(open_hub, "bench/app", {})
            admin = basic("admin", ADMIN_PASSWORD)
            call(server, "POST", "/api/v1/users", {**admin, "Content-Type": "application/json"},
                 {"name": "alice", "password": ALICE_PASSWORD}, status=201)
            alice = basic("alice", ALICE_PASSWORD)
            push_as(server, "alice/private", alice)
            push_as(server, "alice/public", alice)
            call(server, "PATCH", "/api/v1/repositories/alice/public",
                 {**alice, "Content-Type": "application/json"}, {"is_public": True})
            created = call(server, "POST", "/api/v1/user/tokens",
                           {**alice, "Content-Type": "application/json"},
                           {"name": "bench", "scopes": ["read"]}, status=201)
            pat = basic("alice", json.loads(created)["token"])
            anonymous = token(server, "repository:alice/public:pull", None)
            owner = token(server, "repository:alice/private:pull", alice)
            base = server.url + "/v2/alice"
            cases = [
                ("open registry (--no-auth)", f"{open_hub.url}/v2/bench/app", {}),
                ("anonymous token, public repo", f"{base}/public",
                 {"Authorization": f"Bearer {anonymous}"}),
                ("user token, private repo", f"{base}/private",
                 {"Authorization": f"Bearer {owner}"}),
                ("basic password, private repo", f"{base}/private", alice),
                ("basic access token, private repo", f"{base}/private", pat),
            ]
            # Interleaved rounds, so that load from elsewhere on the host hits every case alike.
            for _ in range(args.rounds):
                for label, repo_url, headers in cases:
                    try:
                        rate = wrk_rate(f"{repo_url}/manifests/latest", args, headers)
                    except BenchError as error:
                        errors[label] = f"error: {error}"
                        continue
                    samples.setdefault(label, []).append(rate)
    rates = {label: statistics.median(values) for label, values in samples.items()}
    baseline = rates.get("open registry (--no-auth)")
    print(f"manifest GET, {args.connections} connections, {args.duration} s per run (wrk), "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'case':<36} {'req/s':>10} {'vs open':>8}")
    for label, rate in rates.items():
        ratio = f"{rate / baseline:>8.2f}" if baseline else ""
        print(f"{label:<36} {rate:>10.0f} {ratio}")
    for label, error in errors.items():
        print(f"{label:<36} {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
