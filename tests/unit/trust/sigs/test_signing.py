"""`trust.sigs.signing` makes what the verifiers (and so the hub's gate) accept."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from trust.sigs.errors import SigningKeyError
from trust.sigs.policy import (
    COSIGN_SIG_TAG,
    NOTATION_SIGNATURE,
    SignatureArtifact,
    SignaturePolicy,
    Subject,
)
from trust.sigs.signing import (
    cosign_signature,
    generate_key,
    load_signing_key,
    notation_signature,
    private_pem,
    public_pem,
    self_signed_certificate,
)

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
IMAGE = b'{"schemaVersion":2}'
DIGEST = "sha256:" + hashlib.sha256(IMAGE).hexdigest()
SUBJECT = Subject("acme/app", DIGEST, "application/vnd.oci.image.manifest.v1+json", len(IMAGE),
                  IMAGE, host="hub.example")


def cosign_policy(*keys: object) -> SignaturePolicy:
    return SignaturePolicy.from_dict(
        {"formats": ["cosign"], "cosign": {"keys": [public_pem(k).decode() for k in keys]}})


def notation_policy(cert_pem: str, cn: str = "ci") -> SignaturePolicy:
    return SignaturePolicy.from_dict({
        "formats": ["notation"],
        "notation": {
            "trustPolicy": {"version": "1.0", "trustPolicies": [{
                "name": "hub", "registryScopes": ["*"],
                "signatureVerification": {"level": "strict"},
                "trustStores": ["ca:berth"],
                "trustedIdentities": [f"x509.subject: C=US, ST=WA, O=berth, CN={cn}"]}]},
            "trustStores": {"ca:berth": {"certificates": cert_pem}}}})


@pytest.mark.parametrize("key", [
    ec.generate_private_key(ec.SECP256R1()),
    ec.generate_private_key(ec.SECP384R1()),
    ed25519.Ed25519PrivateKey.generate(),
    rsa.generate_private_key(public_exponent=65537, key_size=2048),
], ids=["p256", "p384", "ed25519", "rsa"])
def test_cosign_signatures_verify_under_the_key_and_not_another(key: object) -> None:
    artifact = cosign_signature(key, DIGEST, "hub.example/acme/app")  # type: ignore[arg-type]
    found = SignatureArtifact(COSIGN_SIG_TAG, artifact.manifest, artifact.blobs)
    decision = cosign_policy(key).decide(SUBJECT, [found], NOW)
    assert decision.signed, decision.explain()
    assert not cosign_policy(generate_key()).decide(SUBJECT, [found], NOW).signed


def test_a_second_cosign_signature_is_appended_and_either_key_counts() -> None:
    first, second = generate_key(), generate_key()
    one = cosign_signature(first, DIGEST, "hub.example/acme/app")
    two = cosign_signature(second, DIGEST, "hub.example/acme/app", existing=one.manifest)
    assert len(json.loads(two.manifest)["layers"]) == 2
    blobs = {**one.blobs, **two.blobs}
    found = SignatureArtifact(COSIGN_SIG_TAG, two.manifest, blobs)
    assert cosign_policy(first).decide(SUBJECT, [found], NOW).signed
    assert cosign_policy(second).decide(SUBJECT, [found], NOW).signed


def test_cosign_annotations_are_signed_into_the_payload() -> None:
    key = generate_key()
    artifact = cosign_signature(key, DIGEST, "hub.example/acme/app", {"team": "blue"})
    found = SignatureArtifact(COSIGN_SIG_TAG, artifact.manifest, artifact.blobs)
    policy = SignaturePolicy.from_dict({"formats": ["cosign"], "cosign": {
        "keys": [public_pem(key).decode()], "annotations": {"team": "red"}}})
    assert not policy.decide(SUBJECT, [found], NOW).signed


@pytest.mark.parametrize("key", [
    ec.generate_private_key(ec.SECP256R1()),
    ec.generate_private_key(ec.SECP384R1()),
    rsa.generate_private_key(public_exponent=65537, key_size=3072),
], ids=["p256", "p384", "rsa3072"])
def test_notation_signatures_verify_against_the_certificate(key: object) -> None:
    cert = self_signed_certificate(key, "ci", NOW - dt.timedelta(days=1))  # type: ignore[arg-type]
    target = {"mediaType": SUBJECT.media_type, "digest": DIGEST, "size": SUBJECT.size}
    artifact = notation_signature(key, [cert], target, NOW)  # type: ignore[arg-type]
    manifest = json.loads(artifact.manifest)
    assert manifest["artifactType"] == "application/vnd.cncf.notary.signature"
    assert manifest["subject"]["digest"] == DIGEST
    assert manifest["layers"][0]["mediaType"] == "application/jose+json"
    found = SignatureArtifact(NOTATION_SIGNATURE, artifact.manifest, artifact.blobs)
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    decision = notation_policy(pem).decide(SUBJECT, [found], NOW)
    assert decision.signed, decision.explain()
    assert not notation_policy(pem, cn="someone else").decide(SUBJECT, [found], NOW).signed


def test_notation_refuses_a_key_that_is_not_the_certificates() -> None:
    cert = self_signed_certificate(generate_key(), "ci", NOW)
    with pytest.raises(SigningKeyError, match="not the key of the signing certificate"):
        notation_signature(generate_key(), [cert], {"mediaType": "x", "digest": DIGEST,
                                                    "size": 1}, NOW)


def test_keys_load_from_pem_pkcs8_with_and_without_a_password() -> None:
    key = generate_key()
    assert load_signing_key(private_pem(key)).private_numbers() == key.private_numbers()
    locked = private_pem(key, b"secret")
    assert b"ENCRYPTED PRIVATE KEY" in locked
    assert load_signing_key(locked, b"secret").private_numbers() == key.private_numbers()
    with pytest.raises(SigningKeyError):
        load_signing_key(locked, b"wrong")
    with pytest.raises(SigningKeyError, match="cosign's encrypted key format"):
        load_signing_key(b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nx\n")
