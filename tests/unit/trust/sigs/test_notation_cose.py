"""Notation COSE_Sign1 envelopes: the same checks as JWS, on CBOR."""

import datetime as dt

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.signatures import (
    NOW,
    OCI_MANIFEST,
    Pki,
    digest_of,
    notation_cose,
    notation_cose_referrer,
    trust_policy,
)
from trust.sigs.errors import (
    CertificateChainError,
    DigestMismatchError,
    MalformedSignatureError,
    SignatureExpiredError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.notation import (
    COSE_MEDIA_TYPE,
    TargetArtifact,
    verify_envelope,
    verify_notation_manifest,
)
from trust.sigs.notation_policy import TrustPolicyDocument
from trust.sigs.x509store import TrustStore

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
TARGET = TargetArtifact(OCI_MANIFEST, digest_of(MANIFEST), len(MANIFEST))
DESCRIPTOR = {"mediaType": OCI_MANIFEST, "digest": TARGET.digest, "size": TARGET.size}


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.create()


@pytest.fixture(scope="module")
def signer(pki):
    key = ec.generate_private_key(ec.SECP384R1())
    return key, [pki.leaf(key), pki.root]


def verify(envelope, pki, now=NOW, **policy):
    statement = TrustPolicyDocument.from_dict(trust_policy(**policy)).select("hub/acme/app")
    stores = {"ca:acme": TrustStore.from_pem("ca:acme", pki.root_pem())}
    return verify_envelope(envelope, COSE_MEDIA_TYPE, TARGET, statement, stores, now)


def with_protected(envelope: bytes, changes: dict) -> bytes:
    """The envelope with its protected header changed (the signature left as it was)."""
    tag = cbor2.loads(envelope)
    parts = list(tag.value)
    protected = dict(cbor2.loads(parts[0]))
    protected.update(changes)
    parts[0] = cbor2.dumps(protected)
    return cbor2.dumps(cbor2.CBORTag(18, parts))


def test_ecdsa_and_rsa_cose_signatures_verify(pki, signer):
    key, chain = signer
    verdict = verify(notation_cose(key, chain, DESCRIPTOR), pki)
    assert verdict.layout == "cose" and "CN=acme signer" in verdict.signer
    assert verdict.signed_at == (NOW - dt.timedelta(hours=1)).replace(microsecond=0)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verify(notation_cose(rsa_key, [pki.leaf(rsa_key), pki.root], DESCRIPTOR), pki)


def test_the_referrer_manifest_with_a_cose_layer_verifies(pki, signer):
    key, chain = signer
    artifact = notation_cose_referrer(
        notation_cose(key, chain, DESCRIPTOR), TARGET.digest, TARGET.size
    )
    statement = TrustPolicyDocument.from_dict(trust_policy()).select("hub/acme/app")
    stores = {"ca:acme": TrustStore.from_pem("ca:acme", pki.root_pem())}
    verdict = verify_notation_manifest(
        artifact.manifest, artifact.blobs, TARGET, statement, stores, NOW
    )
    assert verdict.layout == "cose"


def test_another_digest_is_refused(pki, signer):
    key, chain = signer
    with pytest.raises(DigestMismatchError):
        verify(notation_cose(key, chain, dict(DESCRIPTOR, digest=digest_of(b"x"))), pki)


def test_untrusted_root_is_refused(signer):
    key, chain = signer
    with pytest.raises(CertificateChainError):
        verify(notation_cose(key, chain, DESCRIPTOR), Pki.create())


def test_altered_signed_attributes_are_refused(pki, signer):
    key, chain = signer
    envelope = notation_cose(key, chain, DESCRIPTOR, expiry=NOW - dt.timedelta(1))
    later = cbor2.CBORTag(1, int((NOW + dt.timedelta(1)).timestamp()))
    with pytest.raises(UntrustedSignerError):
        verify(with_protected(envelope, {"io.cncf.notary.expiry": later}), pki)


def test_expired_signature_is_refused(pki, signer):
    key, chain = signer
    with pytest.raises(SignatureExpiredError):
        verify(notation_cose(key, chain, DESCRIPTOR, expiry=NOW - dt.timedelta(minutes=1)), pki)


def test_alg_must_match_the_key_and_be_approved(pki, signer):
    key, chain = signer  # P-384 demands ES384
    with pytest.raises(UnsupportedAlgorithmError, match="needs ES384"):
        verify(notation_cose(key, chain, DESCRIPTOR, alg="ES256"), pki)
    hmac = with_protected(notation_cose(key, chain, DESCRIPTOR), {1: 5})  # HMAC 256/256
    with pytest.raises(UnsupportedAlgorithmError):
        verify(hmac, pki)


def test_unknown_critical_parameter_is_refused(pki, signer):
    key, chain = signer
    envelope = notation_cose(
        key,
        chain,
        DESCRIPTOR,
        protected_extra={"io.cncf.notary.verificationPlugin": "x"},
        crit=["io.cncf.notary.signingScheme", "io.cncf.notary.verificationPlugin"],
    )
    with pytest.raises(UnsupportedAlgorithmError, match="verificationPlugin"):
        verify(envelope, pki)


def test_not_cose_sign1_is_malformed(pki):
    with pytest.raises(MalformedSignatureError):
        verify(cbor2.dumps(cbor2.CBORTag(98, [])), pki)
    with pytest.raises(MalformedSignatureError):
        verify(b"\xff\x00", pki)
