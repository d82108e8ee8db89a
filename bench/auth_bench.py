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
import json
import sys
import tempfile
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # a sibling module, not a package
    RateCase,
    Server,
    add_round_options,
    berth,
    expect,
    interleaved_rates,
    prepare_small_image,
    print_rates,
    request,
)

ADMIN_PASSWORD = "bench-admin-password"
ALICE_PASSWORD = "bench-alice-password"


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def call(server: Server, method: str, path: str, headers: dict[str, str], body: object = None,
         status: int = 200) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    return expect(request(server, method, path, headers, body=data), status, f"{method} {path}")


def token(server: Server, scope: str, credentials: dict[str, str] | None) -> str:
    query = urllib.parse.urlencode({"service": "berth", "scope": scope})
    body = call(server, "GET", f"/token?{query}", credentials or {})
    return str(json.loads(body)["token"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_round_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="berth-auth-bench-") as tmp:
        workdir = Path(tmp)
        admin_env = {"BERTH_ADMIN_PASSWORD": ADMIN_PASSWORD}
        with berth(workdir, "open", env=admin_env)() as open_hub, \
                berth(workdir, "auth", auth=True, env=admin_env)() as server:
            prepare_small_image(open_hub, "bench/app", 0)
            admin = basic("admin", ADMIN_PASSWORD)
            call(server, "POST", "/api/v1/users", {**admin, "Content-Type": "application/json"},
                 {"name": "alice", "password": ALICE_PASSWORD}, status=201)
            alice = basic("alice", ALICE_PASSWORD)
            prepare_small_image(server, "alice/private", 0, alice)
            prepare_small_image(server, "alice/public", 0, alice)
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
            rates = interleaved_rates(
                [RateCase(label, f"{repo_url}/manifests/latest", headers)
                 for label, repo_url, headers in cases], args)
    print_rates(rates, args, "open registry (--no-auth)", "vs open", 36)
    return 0


if __name__ == "__main__":
    sys.exit(main())
