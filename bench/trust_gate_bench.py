"""Manifest GET requests/s with and without the content-trust gate, measured with `wrk`.

Run: `python3 bench/trust_gate_bench.py` from the repository root. It starts one open hub
(`--no-auth`, SQLite) on a free loopback port, pushes the same small image to `bench/plain` and
`bench/signed`, signs `bench/signed:latest` with the trust library through the hub's own trust
routes, turns `trust_required` on for `bench/signed` only, and measures `GET
/v2/<name>/manifests/<reference>` for:

- plain by tag: a repository without the setting (the baseline);
- gated by tag: the repository requiring trust (tag resolved against verified trust data);
- gated by digest: the same, by the signed digest.

It prints one table with each rate and its ratio to the baseline (median of interleaved rounds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import (  # a sibling module, not a package
    OCI_MANIFEST,
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

from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.signer import Repository


def passphrases(role: str) -> str:
    return "bench-root-pass" if role == "root" else "bench-repo-pass"


def sign_latest(server: Server, repo: str, keys: Path) -> str:
    """Sign `repo:latest` as the manifest the hub serves; return its digest."""
    response = request(server, "GET", f"/v2/{repo}/manifests/latest", {"Accept": OCI_MANIFEST})
    payload = expect(response, 200, "manifest GET")
    gun = f"{server.hostport[0]}:{server.hostport[1]}/{repo}"
    author = Repository(gun, HttpRemoteStore(server.url, gun), KeyStore(keys), passphrases)
    author.initialize()
    author.sign_target("latest", hashlib.sha256(payload).hexdigest(), len(payload))
    return "sha256:" + hashlib.sha256(payload).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_round_options(parser)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="berth-trust-gate-bench-") as tmp:
        workdir = Path(tmp)
        with berth(workdir)() as server:
            prepare_small_image(server, "bench/plain", 0)
            prepare_small_image(server, "bench/signed", 0)
            digest = sign_latest(server, "bench/signed", workdir / "keys")
            body = json.dumps({"trust_required": True}).encode()
            response = request(server, "PATCH", "/api/v1/repositories/bench/signed",
                               {"Content-Type": "application/json"}, body=body)
            expect(response, 200, "trust_required PATCH")
            headers = {"Accept": OCI_MANIFEST}
            cases = [
                RateCase("plain repo, by tag", f"{server.url}/v2/bench/plain/manifests/latest",
                         headers),
                RateCase("trust required, by tag",
                         f"{server.url}/v2/bench/signed/manifests/latest", headers),
                RateCase("trust required, by digest",
                         f"{server.url}/v2/bench/signed/manifests/{digest}", headers),
            ]
            rates = interleaved_rates(cases, args)
    print_rates(rates, args, "plain repo, by tag", "vs plain", 30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
