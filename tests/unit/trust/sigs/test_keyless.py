"""Keyless Sigstore bundles: Fulcio certificate, identity and Rekor entry, checked offline."""

import base64
import datetime as dt
import json

import pytest

from tests.support.signatures import (
    NOW,
    Sigstore,
    cosign_keyless_signature,
    digest_of,
    keyless_bundle,
)
from trust.sigs.bundle import verify_bundle
from trust.sigs.cosign import verify_signature_manifest
from trust.sigs.errors import (
    CertificateChainError,
    DigestMismatchError,
    IdentityMismatchError,
    SigningTimeError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.keyless import KeylessIdentity, KeylessTrust, merkle_root
from trust.sigs.keys import VerifyingKey
from trust.sigs.x509store import load_pem_certificates

MANIFEST = b'{"schemaVersion":2}'
IMAGE = digest_of(MANIFEST)
ISSUER = "https://issuer.acme.test"


@pytest.fixture(scope="module")
def sigstore() -> Sigstore:
    return Sigstore.create()


def trust(sigstore: Sigstore, subject: str = "dev@acme.test", issuer: str = ISSUER):
    certificates = tuple(c for pem in sigstore.trust_pems() for c in load_pem_certificates(pem))
    return KeylessTrust(
        certificates,
        (VerifyingKey.from_pem(sigstore.log_pem()),),
        (KeylessIdentity(issuer, subject),),
    )


def test_keyless_dsse_bundle_verifies_with_identity_and_time(sigstore):
    verdict = verify_bundle(keyless_bundle(sigstore, IMAGE), IMAGE, [], keyless=trust(sigstore))
    assert verdict.signer == f"dev@acme.test ({ISSUER})"
    assert verdict.signed_at == (NOW - dt.timedelta(hours=2)).replace(microsecond=0)


def test_keyless_message_signature_verifies(sigstore):
    bundle = keyless_bundle(sigstore, IMAGE, message=MANIFEST)
    assert verify_bundle(bundle, IMAGE, [], keyless=trust(sigstore)).format == "cosign"


def test_without_a_keyless_trust_root_it_is_refused(sigstore):
    with pytest.raises(UnsupportedAlgorithmError):
        verify_bundle(keyless_bundle(sigstore, IMAGE), IMAGE, [])


@pytest.mark.parametrize(
    ("subject", "issuer"),
    [("someone@acme.test", ISSUER), ("dev@acme.test", "https://other.issuer")],
)
def test_another_identity_is_refused(sigstore, subject, issuer):
    with pytest.raises(IdentityMismatchError):
        verify_bundle(
            keyless_bundle(sigstore, IMAGE), IMAGE, [], keyless=trust(sigstore, subject, issuer)
        )


def test_a_certificate_from_another_ca_is_refused(sigstore):
    rogue = Sigstore.create()
    rogue.log_key = sigstore.log_key  # even logged in the trusted log
    with pytest.raises(CertificateChainError):
        verify_bundle(keyless_bundle(rogue, IMAGE), IMAGE, [], keyless=trust(sigstore))


def test_an_entry_in_an_untrusted_log_is_refused(sigstore):
    rogue = Sigstore.create()
    rogue.fulcio, rogue.intermediate, rogue.intermediate_key = (
        sigstore.fulcio,
        sigstore.intermediate,
        sigstore.intermediate_key,
    )
    with pytest.raises(UntrustedSignerError, match="not trusted"):
        verify_bundle(keyless_bundle(rogue, IMAGE), IMAGE, [], keyless=trust(sigstore))


def test_logged_after_the_certificate_expired_is_refused(sigstore):
    late = keyless_bundle(sigstore, IMAGE, logged_at=NOW - dt.timedelta(hours=1))
    with pytest.raises(SigningTimeError):
        verify_bundle(late, IMAGE, [], keyless=trust(sigstore))


def test_a_tampered_signed_entry_timestamp_is_refused(sigstore):
    bundle = json.loads(keyless_bundle(sigstore, IMAGE))
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 30)
    with pytest.raises(UntrustedSignerError, match="signed entry timestamp"):
        verify_bundle(json.dumps(bundle).encode(), IMAGE, [], keyless=trust(sigstore))


def test_an_entry_of_another_signature_is_refused(sigstore):
    one = json.loads(keyless_bundle(sigstore, IMAGE))
    other = json.loads(keyless_bundle(sigstore, IMAGE))
    one["verificationMaterial"]["tlogEntries"] = other["verificationMaterial"]["tlogEntries"]
    with pytest.raises(UntrustedSignerError, match="another signature"):
        verify_bundle(json.dumps(one).encode(), IMAGE, [], keyless=trust(sigstore))


def test_a_broken_inclusion_proof_is_refused(sigstore):
    bundle = json.loads(keyless_bundle(sigstore, IMAGE))
    proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
    proof["hashes"][0] = base64.b64encode(b"\0" * 32).decode()
    with pytest.raises(UntrustedSignerError, match="inclusion proof"):
        verify_bundle(json.dumps(bundle).encode(), IMAGE, [], keyless=trust(sigstore))


def test_a_statement_about_another_image_is_refused(sigstore):
    with pytest.raises(DigestMismatchError):
        verify_bundle(
            keyless_bundle(sigstore, digest_of(b"other")), IMAGE, [], keyless=trust(sigstore)
        )


def test_merkle_root_of_a_one_leaf_tree_is_the_leaf():
    assert merkle_root(0, 1, b"x" * 32, []) == b"x" * 32
    with pytest.raises(UntrustedSignerError):
        merkle_root(1, 1, b"x" * 32, [])


def test_cosign_tag_scheme_keyless_signature_verifies(sigstore):
    artifact = cosign_keyless_signature(sigstore, IMAGE)
    verdict = verify_signature_manifest(
        artifact.manifest, artifact.blobs, IMAGE, [], keyless=trust(sigstore), now=NOW
    )
    assert verdict.layout == "sig-tag" and verdict.signer.startswith("dev@acme.test")
    assert verdict.signed_at == (NOW - dt.timedelta(hours=2)).replace(microsecond=0)


def test_cosign_tag_scheme_keyless_attacks_are_refused(sigstore):
    keyless = trust(sigstore)
    with pytest.raises(UnsupportedAlgorithmError):
        artifact = cosign_keyless_signature(sigstore, IMAGE)
        verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [])
    with pytest.raises(IdentityMismatchError):
        artifact = cosign_keyless_signature(sigstore, IMAGE, email="mallory@acme.test")
        verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [], keyless=keyless)
    with pytest.raises(SigningTimeError):
        artifact = cosign_keyless_signature(sigstore, IMAGE, logged_at=NOW - dt.timedelta(hours=1))
        verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [], keyless=keyless)
    with pytest.raises(DigestMismatchError):
        artifact = cosign_keyless_signature(sigstore, digest_of(b"other"))
        verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [], keyless=keyless)
    # Another signature's log entry attached to this layer.
    one = json.loads(cosign_keyless_signature(sigstore, IMAGE).manifest)
    other = cosign_keyless_signature(sigstore, IMAGE)
    annotations = json.loads(other.manifest)["layers"][0]["annotations"]
    one["layers"][0]["annotations"]["dev.sigstore.cosign/bundle"] = annotations[
        "dev.sigstore.cosign/bundle"
    ]
    with pytest.raises(UntrustedSignerError, match="another signature"):
        verify_signature_manifest(json.dumps(one).encode(), other.blobs, IMAGE, [], keyless=keyless)
