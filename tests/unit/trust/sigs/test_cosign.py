"""cosign's tag scheme: simple-signing payloads in a `sha256-<hex>.sig` manifest."""

import base64
import json

import pytest

from tests.support.signatures import (
    b64,
    cosign_sig_manifest,
    cosign_sign,
    cosign_signature,
    digest_of,
    new_key,
    public_pem,
    simple_signing_payload,
)
from trust.sigs.cosign import (
    SimpleSigningClaim,
    identity_matches,
    signature_tag,
    verify_signature_manifest,
    verify_simple_signing,
)
from trust.sigs.errors import (
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.keys import VerifyingKey

IMAGE = digest_of(b"the image manifest")
OTHER = digest_of(b"another image manifest")

# The payload of a published `cosign download` example (sigstore's own demo image).
PUBLISHED_PAYLOAD = base64.b64decode(
    "eyJjcml0aWNhbCI6eyJpZGVudGl0eSI6eyJkb2NrZXItcmVmZXJlbmNlIjoiZ2NyLmlvL2Rsb3JlbmMtdm10ZXN0Mi9"
    "kZW1vIn0sImltYWdlIjp7ImRvY2tlci1tYW5pZmVzdC1kaWdlc3QiOiJzaGEyNTY6NDEwYTA3ZjE3MTUxZmZmZmI1MT"
    "NmOTQyYTAxNzQ4ZGZkYjkyMWRlOTE1ZWE2NDI3ZDYxZDYwYjAzNTdjMWRjZCJ9LCJ0eXBlIjoiY29zaWduIGNvbnRha"
    "W5lciBpbWFnZSBzaWduYXR1cmUifSwib3B0aW9uYWwiOm51bGx9"
)


def trusted(key) -> VerifyingKey:
    return VerifyingKey.from_pem(public_pem(key), name="acme")


@pytest.mark.parametrize("kind", ["ecdsa", "ed25519", "rsa"])
def test_signature_by_a_trusted_key_of_each_type_verifies(kind):
    key = new_key(kind)
    artifact = cosign_signature(key, IMAGE)
    verdict = verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [trusted(key)])
    assert (verdict.format, verdict.digest, verdict.signer, verdict.layout) == (
        "cosign",
        IMAGE,
        "acme",
        "sig-tag",
    )


def test_the_published_payload_parses_to_its_digest_and_identity():
    claim = SimpleSigningClaim.from_bytes(PUBLISHED_PAYLOAD)
    assert claim.digest == (
        "sha256:410a07f17151ffffb513f942a01748dfdb921de915ea6427d61d60b0357c1dcd"
    )
    assert claim.docker_reference == "gcr.io/dlorenc-vmtest2/demo"
    assert claim.optional == {}


def test_signature_tag_is_cosigns():
    assert signature_tag(IMAGE) == "sha256-" + IMAGE[7:] + ".sig"


def test_a_signature_for_another_digest_is_refused():
    key = new_key()
    artifact = cosign_signature(key, OTHER)
    with pytest.raises(DigestMismatchError, match="not " + IMAGE):
        verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [trusted(key)])


def test_a_valid_signature_by_an_untrusted_key_is_refused():
    artifact = cosign_signature(new_key(), IMAGE)
    with pytest.raises(UntrustedSignerError):
        verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [trusted(new_key())])


def test_a_tampered_payload_is_refused():
    key = new_key()
    payload = simple_signing_payload(OTHER, "hub.example/acme/app")
    signature = b64(cosign_sign(key, payload))
    forged = payload.replace(OTHER.encode(), IMAGE.encode())
    with pytest.raises(UntrustedSignerError):
        verify_simple_signing(forged, signature, IMAGE, [trusted(key)])


def test_a_blob_that_is_not_the_layer_is_refused():
    key = new_key()
    artifact = cosign_signature(key, IMAGE)
    swapped = {d: b"not the payload" for d in artifact.blobs}
    with pytest.raises(MalformedSignatureError, match="does not match"):
        verify_signature_manifest(artifact.manifest, swapped, IMAGE, [trusted(key)])


def test_any_verifying_layer_counts_among_others():
    key, stranger = new_key(), new_key("ed25519")
    good = simple_signing_payload(IMAGE, "hub.example/acme/app")
    bad = simple_signing_payload(IMAGE, "hub.example/acme/app", {"by": "stranger"})
    artifact = cosign_sig_manifest(
        [(bad, b64(cosign_sign(stranger, bad))), (good, b64(cosign_sign(key, good)))]
    )
    verdict = verify_signature_manifest(artifact.manifest, artifact.blobs, IMAGE, [trusted(key)])
    assert verdict.signer == "acme"


def test_identity_and_annotations_must_match_when_asked():
    key = new_key()
    artifact = cosign_signature(key, IMAGE, "hub.example/acme/app:v1", team="blue")
    keys = [trusted(key)]
    verify_signature_manifest(
        artifact.manifest,
        artifact.blobs,
        IMAGE,
        keys,
        identities=["hub.example/acme/app"],
        annotations={"team": "blue"},
    )
    with pytest.raises(IdentityMismatchError, match="identity"):
        verify_signature_manifest(
            artifact.manifest, artifact.blobs, IMAGE, keys, identities=["hub.example/acme/db"]
        )
    with pytest.raises(IdentityMismatchError, match="team=red"):
        verify_signature_manifest(
            artifact.manifest, artifact.blobs, IMAGE, keys, annotations={"team": "red"}
        )


def test_identity_compares_the_repository_part():
    assert identity_matches("hub:5000/acme/app:v1", "hub:5000/acme/app")
    assert identity_matches("hub:5000/acme/app@" + IMAGE, "hub:5000/acme/app")
    assert not identity_matches("hub:5000/acme/app2", "hub:5000/acme/app")


def test_a_payload_of_another_type_is_refused_even_when_signed():
    key = new_key()
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": "x"},
                "image": {"docker-manifest-digest": IMAGE},
                "type": "atomic container signature",
            }
        }
    ).encode()
    with pytest.raises(MalformedSignatureError, match="type"):
        verify_simple_signing(payload, b64(cosign_sign(key, payload)), IMAGE, [trusted(key)])


def test_weak_or_unknown_keys_are_not_trusted():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(UnsupportedAlgorithmError):
        VerifyingKey.from_pem(public_pem(small))
    k1 = (
        ec.generate_private_key(ec.SECP256K1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(UnsupportedAlgorithmError):
        VerifyingKey.from_pem(k1)
    with pytest.raises(MalformedSignatureError):
        VerifyingKey.from_pem(b"not a key")
