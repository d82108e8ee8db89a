"""Sigstore bundles attached as referrers, signed with a key."""

import base64
import json

import pytest

from tests.support.signatures import (
    bundle_referrer,
    digest_of,
    dsse_bundle,
    message_bundle,
    new_key,
    public_pem,
)
from trust.sigs.bundle import verify_bundle, verify_bundle_manifest
from trust.sigs.errors import (
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.keys import VerifyingKey

MANIFEST = b'{"schemaVersion":2,"layers":[]}'
IMAGE = digest_of(MANIFEST)
OTHER = digest_of(b"another image")


def trusted(key) -> VerifyingKey:
    return VerifyingKey.from_pem(public_pem(key), name="acme")


@pytest.mark.parametrize("kind", ["ecdsa", "ed25519", "rsa"])
def test_dsse_statement_about_the_image_verifies(kind):
    key = new_key(kind)
    artifact = bundle_referrer(dsse_bundle(key, IMAGE), IMAGE, len(MANIFEST))
    verdict = verify_bundle_manifest(artifact.manifest, artifact.blobs, IMAGE, [trusted(key)])
    assert (verdict.format, verdict.layout, verdict.signer) == ("cosign", "bundle", "acme")


@pytest.mark.parametrize("kind", ["ecdsa", "rsa"])
def test_message_signature_over_the_manifest_verifies_by_its_digest(kind):
    key = new_key(kind)
    verdict = verify_bundle(message_bundle(key, MANIFEST), IMAGE, [trusted(key)])
    assert verdict.digest == IMAGE


def test_ed25519_message_signature_needs_the_manifest_bytes():
    key = new_key("ed25519")
    bundle = message_bundle(key, MANIFEST)
    with pytest.raises(UntrustedSignerError):
        verify_bundle(bundle, IMAGE, [trusted(key)])
    assert verify_bundle(bundle, IMAGE, [trusted(key)], manifest=MANIFEST).signer == "acme"


def test_statement_about_another_digest_is_refused():
    key = new_key()
    with pytest.raises(DigestMismatchError):
        verify_bundle(dsse_bundle(key, OTHER), IMAGE, [trusted(key)])


def test_message_signature_of_another_artifact_is_refused():
    key = new_key()
    with pytest.raises(DigestMismatchError):
        verify_bundle(message_bundle(key, b"other"), IMAGE, [trusted(key)])


def test_untrusted_key_is_refused():
    with pytest.raises(UntrustedSignerError):
        verify_bundle(dsse_bundle(new_key(), IMAGE), IMAGE, [trusted(new_key())])


def test_tampered_statement_is_refused():
    key = new_key()
    bundle = json.loads(dsse_bundle(key, OTHER))
    payload = base64.b64decode(bundle["dsseEnvelope"]["payload"]).replace(
        OTHER[7:].encode(), IMAGE[7:].encode()
    )
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
    with pytest.raises(UntrustedSignerError):
        verify_bundle(json.dumps(bundle).encode(), IMAGE, [trusted(key)])


def test_payload_type_is_part_of_what_is_signed():
    key = new_key()
    bundle = json.loads(dsse_bundle(key, IMAGE))
    bundle["dsseEnvelope"]["payloadType"] = "application/vnd.in-toto+json; x=1"
    with pytest.raises(UntrustedSignerError):
        verify_bundle(json.dumps(bundle).encode(), IMAGE, [trusted(key)])


def test_predicate_type_restriction():
    key = new_key()
    bundle = dsse_bundle(key, IMAGE, "https://slsa.dev/provenance/v1")
    with pytest.raises(IdentityMismatchError):
        verify_bundle(
            bundle, IMAGE, [trusted(key)], predicate_types=["https://sigstore.dev/cosign/sign/v1"]
        )


def test_keyless_bundle_is_refused_not_trusted():
    key = new_key()
    bundle = json.loads(dsse_bundle(key, IMAGE))
    bundle["verificationMaterial"] = {"certificate": {"rawBytes": "MIIB"}}
    with pytest.raises(UnsupportedAlgorithmError, match="keyless"):
        verify_bundle(json.dumps(bundle).encode(), IMAGE, [trusted(key)])


def test_referrer_with_another_subject_is_refused():
    key = new_key()
    artifact = bundle_referrer(dsse_bundle(key, IMAGE), OTHER, 10)
    with pytest.raises(DigestMismatchError, match="another artifact"):
        verify_bundle_manifest(artifact.manifest, artifact.blobs, IMAGE, [trusted(key)])


def test_not_a_bundle_is_malformed():
    with pytest.raises(MalformedSignatureError):
        verify_bundle(b'{"mediaType":"text/plain"}', IMAGE, [])
