"""Manifest GET requests/s through the signature-policy gate, per format, beside an ungated one.

Run: `python3 bench/signature_gate_bench.py` from the repository root. It starts one open hub
(`--no-auth`, SQLite) on a free loopback port, pushes a small image to each of `bench/plain`,
`bench/cosign`, `bench/bundle` and `bench/notation`, attaches one signature to each gated
repository in its format (a cosign `.sig` tag, a Sigstore bundle referrer, a Notation JWS
referrer; made by `tests.support.signatures` to the published formats), gives each a signature
policy trusting that signer, requires trust, and measures `GET /v2/<name>/manifests/latest`.

It prints one table with each rate and its ratio to the ungated repository (median of
interleaved rounds).
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

from cryptography.hazmat.primitives.asymmetric import ec
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
    push_small,
    request,
)

from tests.support.signatures import (
    Artifact,
    Pki,
    bundle_referrer,
    cosign_signature,
    dsse_bundle,
    new_key,
    notation_jws,
    notation_referrer,
    public_pem,
    trust_policy,
)


def push_artifact(server: Server, repo: str, artifact: Artifact, reference: str) -> None:
    for blob in artifact.blobs.values():
        push_small(server, repo, blob)
    response = request(server, "PUT", f"/v2/{repo}/manifests/{reference}",
                       {"Content-Type": artifact.media_type}, body=artifact.manifest)
    expect(response, 201, f"signature PUT {repo}")


def latest(server: Server, repo: str) -> tuple[str, int]:
    """The digest and size of `repo:latest` (each repository's image has its own layer)."""
    response = request(server, "GET", f"/v2/{repo}/manifests/latest", {"Accept": OCI_MANIFEST})
    payload = expect(response, 200, f"manifest GET {repo}")
    return "sha256:" + hashlib.sha256(payload).hexdigest(), len(payload)


def gate(server: Server, repo: str, policy: dict) -> None:
    body = json.dumps({"signature_policy": policy, "trust_required": True}).encode()
    response = request(server, "PATCH", f"/api/v1/repositories/{repo}",
                       {"Content-Type": "application/json"}, body=body)
    expect(response, 200, f"policy PATCH {repo}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_round_options(parser)
    args = parser.parse_args()
    key = new_key()
    pki = Pki.create()
    notation_key = ec.generate_private_key(ec.SECP256R1())
    chain = [pki.leaf(notation_key), pki.root]
    cosign_policy = {"formats": ["cosign"], "cosign": {"keys": [public_pem(key).decode()]}}
    notation_policy = {
        "formats": ["notation"],
        "notation": {
            "trustPolicy": trust_policy(),
            "trustStores": {"ca:acme": {"certificates": pki.root_pem().decode()}},
        },
    }
    with tempfile.TemporaryDirectory(prefix="berth-signature-gate-bench-") as tmp:
        workdir = Path(tmp)
        with berth(workdir)() as server:
            repos = ("bench/plain", "bench/cosign", "bench/bundle", "bench/notation")
            for repo in repos:
                prepare_small_image(server, repo, 0)
            image = {repo: latest(server, repo) for repo in repos}
            digest, _ = image["bench/cosign"]
            push_artifact(server, "bench/cosign", cosign_signature(key, digest),
                          digest.replace(":", "-") + ".sig")
            digest, size = image["bench/bundle"]
            bundle = bundle_referrer(dsse_bundle(key, digest), digest, size)
            push_artifact(server, "bench/bundle", bundle, bundle.digest)
            digest, size = image["bench/notation"]
            descriptor = {"mediaType": OCI_MANIFEST, "digest": digest, "size": size}
            envelope = notation_jws(notation_key, chain, descriptor)
            signature = notation_referrer(envelope, digest, size)
            push_artifact(server, "bench/notation", signature, signature.digest)
            gate(server, "bench/cosign", cosign_policy)
            gate(server, "bench/bundle", cosign_policy)
            gate(server, "bench/notation", notation_policy)
            headers = {"Accept": OCI_MANIFEST}
            for repo in repos:
                response = request(server, "GET", f"/v2/{repo}/manifests/latest", headers)
                expect(response, 200, f"gated GET {repo}")
            labels = {
                "bench/plain": "ungated",
                "bench/cosign": "cosign .sig tag",
                "bench/bundle": "Sigstore bundle",
                "bench/notation": "Notation JWS",
            }
            cases = [
                RateCase(labels[repo], f"{server.url}/v2/{repo}/manifests/latest", headers)
                for repo in repos
            ]
            rates = interleaved_rates(cases, args)
    print_rates(rates, args, "ungated", "vs ungated", 30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
