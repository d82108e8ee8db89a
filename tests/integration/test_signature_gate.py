"""The pull gate under a signature policy, against a hub process, with oras and skopeo.

Signatures are attached the way the signing tools do it: Notation signatures and Sigstore
bundles as OCI 1.1 referrers pushed by the oras client (`subject` set), cosign's tag-scheme
signatures (with a key, and keyless with a test Fulcio and Rekor) as `sha256-<hex>.sig`
manifests pushed with the in-repo upload helpers (oras-py cannot set layer annotations).
The policy is set with `berth-hub repo policy --file` and `repo trust-required on`; skopeo
then pulls: the signed images come through, the unsigned and wrongly signed ones are refused
with 403 DENIED naming what is missing, and a referrer that claims the subject from another
repository does not sign it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import oras.oci
import oras.provider
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from registry.oci import mediatypes
from tests.support import upload
from tests.support.hub import HubProcess, repo_env
from tests.support.images import BuiltImage
from tests.support.signatures import (
    BUNDLE_TYPE,
    NOTATION_TYPE,
    Pki,
    Sigstore,
    cosign_keyless_signature,
    cosign_signature,
    dsse_bundle,
    new_key,
    notation_jws,
    public_pem,
    trust_policy,
)
from tests.support.skopeo import Skopeo
from tests.support.upload import push_blob, push_manifest

pytestmark = [pytest.mark.skopeo, pytest.mark.slow]


def hub_admin(data_dir: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "registry", *args, "--data", str(data_dir)],
        env=repo_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def in_tmp_path(tmp_path: Path) -> Iterator[Path]:
    """oras-py takes file names relative to the working directory."""
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(previous)


def push_variant(hub: HubProcess, repository: str, tag: str, image: BuiltImage) -> tuple[str, int]:
    """The test image under its own digest (an annotation names the tag); (digest, size)."""
    return upload.push_variant(hub.url, repository, tag, image)


def oras_attach(
    client,
    hub: HubProcess,
    repository: str,
    artifact_type: str,
    layer_type: str,
    name: str,
    data: bytes,
    subject: tuple[str, int],
) -> None:
    Path(name).write_bytes(data)
    Path("config.json").write_bytes(b"{}")
    response = client.push(
        f"{hub.host}/{repository}",
        files=[f"{name}:{layer_type}"],
        manifest_config=f"config.json:{artifact_type}",
        subject=oras.oci.Subject(mediatypes.OCI_MANIFEST, subject[0], subject[1]),
    )
    assert response.status_code == 201, response.text


def attach_cosign(hub: HubProcess, repository: str, key, digest: str, artifact=None) -> None:
    artifact = artifact or cosign_signature(key, digest, f"{hub.host}/{repository}")
    for blob in artifact.blobs.values():
        push_blob(hub.url, repository, blob)
    tag = digest.replace(":", "-") + ".sig"
    push_manifest(hub.url, repository, tag, artifact.manifest, artifact.media_type)


def test_signed_images_pull_and_the_rest_are_refused(
    tmp_path: Path, in_tmp_path: Path, skopeo: Skopeo, built_image: BuiltImage
) -> None:
    key, stranger = new_key(), new_key()
    pki = Pki.create()
    signing_key = ec.generate_private_key(ec.SECP256R1())
    chain = [pki.leaf(signing_key), pki.root]
    repo = "sig/app"
    with HubProcess(tmp_path / "data", tmp_path / "hub.log") as hub:
        client = oras.provider.Registry(hostname=hub.host, insecure=True)
        images = {
            tag: push_variant(hub, repo, tag, built_image)
            for tag in (
                "cosign",
                "keyless",
                "bundle",
                "notation",
                "unsigned",
                "stranger",
                "elsewhere",
            )
        }
        attach_cosign(hub, repo, key, images["cosign"][0])
        attach_cosign(hub, repo, stranger, images["stranger"][0])
        sigstore = Sigstore.create()
        keyless = cosign_keyless_signature(sigstore, images["keyless"][0], email="ci@acme.test")
        attach_cosign(hub, repo, None, images["keyless"][0], keyless)
        oras_attach(
            client,
            hub,
            repo,
            BUNDLE_TYPE,
            BUNDLE_TYPE,
            "bundle.json",
            dsse_bundle(key, images["bundle"][0]),
            images["bundle"],
        )
        descriptor = {
            "mediaType": mediatypes.OCI_MANIFEST,
            "digest": images["notation"][0],
            "size": images["notation"][1],
        }
        oras_attach(
            client,
            hub,
            repo,
            NOTATION_TYPE,
            "application/jose+json",
            "sig.jws",
            notation_jws(signing_key, chain, descriptor),
            images["notation"],
        )
        # A valid bundle for `elsewhere`, attached in another repository.
        oras_attach(
            client,
            hub,
            "sig/other",
            BUNDLE_TYPE,
            BUNDLE_TYPE,
            "bundle.json",
            dsse_bundle(key, images["elsewhere"][0]),
            images["elsewhere"],
        )

        policy = {
            "formats": ["cosign", "notation"],
            "cosign": {
                "keys": [public_pem(key).decode()],
                "keyless": {
                    "fulcio": sigstore.trust_pems(),
                    "rekor": [sigstore.log_pem()],
                    "identities": [
                        {"issuer": "https://issuer.acme.test", "subject": "ci@acme.test"}
                    ],
                },
            },
            "notation": {
                "trustPolicy": trust_policy(scopes=[f"{hub.host}/{repo}"]),
                "trustStores": {"ca:acme": {"certificates": pki.root_pem().decode()}},
            },
        }
        (tmp_path / "policy.json").write_text(json.dumps(policy))
        shown = hub_admin(
            hub.data_dir, "repo", "policy", repo, "--file", str(tmp_path / "policy.json")
        )
        assert "signature policy" in shown and "its own" in shown
        hub_admin(hub.data_dir, "repo", "trust-required", repo, "on")
        assert '"formats"' in hub_admin(hub.data_dir, "repo", "policy", repo)

        for tag in ("cosign", "keyless", "bundle", "notation"):
            out = tmp_path / f"out-{tag}"
            skopeo.copy(f"docker://{hub.host}/{repo}:{tag}", f"oci:{out}:{tag}")
            assert (out / "index.json").exists()
        for tag, why in (
            ("unsigned", "cosign: no signature found"),
            ("stranger", "not verified by any trusted key"),
            ("elsewhere", "cosign: no signature found"),
        ):
            refused = skopeo.copy(
                f"docker://{hub.host}/{repo}:{tag}", f"oci:{tmp_path / tag}:x", check=False
            )
            assert refused.returncode != 0, tag
            assert "denied" in refused.stderr.lower(), refused.stderr
            assert "signature required" in refused.stderr, refused.stderr
            assert why in refused.stderr, (tag, refused.stderr)

        # Clearing the policy falls back to Docker Content Trust: nothing here is DCT-signed.
        hub_admin(hub.data_dir, "repo", "policy", repo, "--clear")
        refused = skopeo.inspect(f"docker://{hub.host}/{repo}:cosign", raw=True, check=False)
        assert refused.returncode != 0 and "content trust required" in refused.stderr


@pytest.mark.docker
def test_docker_pull_goes_through_the_gate(
    dockerd, shared_hub: HubProcess, tmp_path: Path, built_image: BuiltImage
) -> None:
    """The real Docker CLI pulls the cosign-signed image; the unsigned one and the one signed
    by an untrusted key are refused with the gate's message."""
    key, stranger = new_key(), new_key()
    repo = "docker-gate/app"
    images = {
        tag: push_variant(shared_hub, repo, tag, built_image)
        for tag in ("signed", "unsigned", "stranger")
    }
    attach_cosign(shared_hub, repo, key, images["signed"][0])
    attach_cosign(shared_hub, repo, stranger, images["stranger"][0])
    policy = {"formats": ["cosign"], "cosign": {"keys": [public_pem(key).decode()]}}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    hub_admin(shared_hub.data_dir, "repo", "policy", repo, "--file", str(tmp_path / "policy.json"))
    hub_admin(shared_hub.data_dir, "repo", "trust-required", repo, "on")
    names = {tag: f"{shared_hub.host}/{repo}:{tag}" for tag in images}
    try:
        dockerd.run("pull", names["signed"])
        inspected = dockerd.run(
            "image", "inspect", "--format", "{{index .RepoDigests 0}}", names["signed"]
        ).stdout.strip()
        assert inspected.endswith(images["signed"][0])
        for tag, why in (
            ("unsigned", "no signature found"),
            ("stranger", "not verified by any trusted key"),
        ):
            refused = dockerd.run("pull", names[tag], check=False)
            assert refused.returncode != 0, tag
            assert "signature required" in refused.stderr and why in refused.stderr, (
                tag,
                refused.stderr,
            )
    finally:
        dockerd.run("rmi", "--force", *names.values(), check=False)
