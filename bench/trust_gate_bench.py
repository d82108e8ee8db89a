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
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from registry_bench import (  # a sibling script, not a package
    OCI_MANIFEST,
    BenchError,
    Server,
    berth,
    expect,
    prepare_small_image,
    request,
    wrk_rate,
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
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {}
    errors: dict[str, str] = {}
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
            cases = [
                ("plain repo, by tag", f"{server.url}/v2/bench/plain/manifests/latest"),
                ("trust required, by tag", f"{server.url}/v2/bench/signed/manifests/latest"),
                ("trust required, by digest",
                 f"{server.url}/v2/bench/signed/manifests/{digest}"),
            ]
            headers = {"Accept": OCI_MANIFEST}
            # Interleaved rounds, so that load from elsewhere on the host hits every case alike.
            for _ in range(args.rounds):
                for label, url in cases:
                    try:
                        samples.setdefault(label, []).append(wrk_rate(url, args, headers))
                    except BenchError as error:
                        errors[label] = f"error: {error}"
    rates = {label: statistics.median(values) for label, values in samples.items()}
    baseline = rates.get("plain repo, by tag")
    print(f"manifest GET, {args.connections} connections, {args.duration} s per run (wrk), "
          f"median of {args.rounds} interleaved rounds")
    print(f"{'case':<30} {'req/s':>10} {'vs plain':>9}")
    for label, rate in rates.items():
        ratio = f"{rate / baseline:>9.2f}" if baseline else ""
        print(f"{label:<30} {rate:>10.0f} {ratio}")
    for label, error in errors.items():
        print(f"{label:<30} {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
