"""Admission reviews/s of the hub's Kubernetes webhook for a pod of five signed images.

Run: `python3 bench/admission_bench.py` from the repository root. It starts one open hub
(`--no-auth`, SQLite) with the admission webhook on, pushes five small images each to its own
gated repository (`bench/signed0`..`4`) and signs them (two cosign `.sig` tags, a Sigstore
bundle referrer, two Notation JWS referrers, made by `tests.support.signatures` to the
published formats; each repository's policy trusts its signer), and five more to ungated
repositories (`bench/plain0`..`4`). It then POSTs one `AdmissionReview` (a Pod of five
containers, as the API server sends it) over and over with `wrk`:

- `validate, 5 ungated`: `/admission/validate` for the ungated images (resolution and audit);
- `validate, 5 signed`: the same for the signed ones (the pull gate's checks as well);
- `mutate, 5 signed`: `/admission/mutate`, whose answer also pins the five digests.

Every review is allowed and writes one audit row, as in service. It prints each rate and its
ratio to the ungated one (median of interleaved rounds).
"""

from __future__ import annotations

import argparse
import base64
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
    request,
    wrk_rate,
)
from signature_gate_bench import gate, latest, push_artifact

from tests.api.kube import POD, pod_spec, review
from tests.support.signatures import (
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

HOST = "hub.example:5000"  # how the pods name the hub
IMAGES = 5


def sign_all(server: Server, repos: list[str]) -> None:
    """Sign each repository's `latest` in turn: cosign tag, cosign, bundle, Notation, Notation."""
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
    for index, repo in enumerate(repos):
        digest, size = latest(server, repo)
        if index < 2:
            push_artifact(server, repo, cosign_signature(key, digest),
                          digest.replace(":", "-") + ".sig")
            gate(server, repo, cosign_policy)
        elif index == 2:
            bundle = bundle_referrer(dsse_bundle(key, digest), digest, size)
            push_artifact(server, repo, bundle, bundle.digest)
            gate(server, repo, cosign_policy)
        else:
            descriptor = {"mediaType": OCI_MANIFEST, "digest": digest, "size": size}
            signature = notation_referrer(notation_jws(notation_key, chain, descriptor),
                                          digest, size)
            push_artifact(server, repo, signature, signature.digest)
            gate(server, repo, notation_policy)


def review_file(workdir: Path, repos: list[str], name: str) -> Path:
    """A Lua script for wrk that POSTs a Pod's AdmissionReview naming `repos`' images."""
    containers = [(f"c{index}", f"{HOST}/{repo}:latest") for index, repo in enumerate(repos)]
    body = workdir / f"{name}.json"
    body.write_text(json.dumps(review(POD, POD.object(pod_spec(containers)))))
    script = workdir / f"{name}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'local file = io.open("{body}", "rb")\n'
        "wrk.body = file:read(\"*a\")\n"
        "file:close()\n"
    )
    return body


def check_allowed(server: Server, path: str, body: Path, pins: int) -> None:
    """One review by hand: it must be allowed, and a mutating one pin `pins` images."""
    response = request(server, "POST", path, {"Content-Type": "application/json"},
                       body=body.read_bytes())
    answer = json.loads(expect(response, 200, f"review {path}"))["response"]
    if answer["allowed"] is not True:
        raise SystemExit(f"{path} refused the bench's pod: {answer}")
    patch = json.loads(base64.b64decode(answer["patch"])) if "patch" in answer else []
    if len(patch) != pins:
        raise SystemExit(f"{path} pinned {len(patch)} images, not {pins}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_round_options(parser)
    args = parser.parse_args()
    env = {"BERTH_ADMISSION_ENABLED": "true", "BERTH_ADMISSION_REGISTRY_HOSTS": HOST}
    with tempfile.TemporaryDirectory(prefix="berth-admission-bench-") as tmp:
        workdir = Path(tmp)
        with berth(workdir, env=env)() as server:
            signed = [f"bench/signed{index}" for index in range(IMAGES)]
            plain = [f"bench/plain{index}" for index in range(IMAGES)]
            for repo in signed + plain:
                prepare_small_image(server, repo, 0)
            sign_all(server, signed)
            plain_body = review_file(workdir, plain, "plain")
            signed_body = review_file(workdir, signed, "signed")
            check_allowed(server, "/admission/validate", plain_body, 0)
            check_allowed(server, "/admission/validate", signed_body, 0)
            check_allowed(server, "/admission/mutate", signed_body, IMAGES)
            cases = [
                RateCase(f"validate, {IMAGES} ungated", f"{server.url}/admission/validate", {},
                         plain_body.with_suffix(".lua")),
                RateCase(f"validate, {IMAGES} signed", f"{server.url}/admission/validate", {},
                         signed_body.with_suffix(".lua")),
                RateCase(f"mutate, {IMAGES} signed", f"{server.url}/admission/mutate", {},
                         signed_body.with_suffix(".lua")),
            ]
            for case in cases:  # warm up: the first run of a round must not pay for it
                wrk_rate(case.url, argparse.Namespace(**{**vars(args), "duration": 1}),
                         case.headers, case.script)
            rates = interleaved_rates(cases, args)
    print_rates(rates, args, f"validate, {IMAGES} ungated", "vs ungated", 24,
                what=f"admission reviews of a pod of {IMAGES} images")
    return 0


if __name__ == "__main__":
    sys.exit(main())
