"""Notation JWS envelopes under a Notation trust policy and an X.509 trust store."""

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.signatures import (
    NOW,
    OCI_MANIFEST,
    Pki,
    b64url,
    digest_of,
    notation_jws,
    notation_referrer,
    trust_policy,
)
from trust.sigs.errors import (
    CertificateChainError,
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    RevokedCertificateError,
    SignatureExpiredError,
    SigningTimeError,
    TrustPolicyError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.notation import TargetArtifact, verify_jws, verify_notation_manifest
from trust.sigs.notation_policy import TrustPolicyDocument
from trust.sigs.x509store import TrustStore, certificate_fingerprint

MANIFEST = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
TARGET = TargetArtifact(OCI_MANIFEST, digest_of(MANIFEST), len(MANIFEST))
DESCRIPTOR = {"mediaType": OCI_MANIFEST, "digest": TARGET.digest, "size": TARGET.size}


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki.create()


@pytest.fixture(scope="module")
def signer(pki):
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return key, [pki.leaf(key), pki.root]


def statement(**kwargs):
    return TrustPolicyDocument.from_dict(trust_policy(**kwargs)).select("hub.example/acme/app")


def stores(pki, revoked=()):
    return {"ca:acme": TrustStore.from_pem("ca:acme", pki.root_pem(), revoked)}


def verify(envelope, pki, now=NOW, revoked=(), **policy):
    return verify_jws(envelope, TARGET, statement(**policy), stores(pki, revoked), now)


def test_rsa_signature_under_strict_verifies_and_names_the_signer(pki, signer):
    key, chain = signer
    verdict = verify(notation_jws(key, chain, DESCRIPTOR), pki)
    assert verdict.format == "notation"
    assert "CN=acme signer" in verdict.signer
    assert verdict.notes == ()
    assert verdict.signed_at == NOW - dt.timedelta(hours=1)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_ecdsa_signatures_verify(pki, curve):
    key = ec.generate_private_key(curve)
    verify(notation_jws(key, [pki.leaf(key), pki.root], DESCRIPTOR), pki)


def test_the_referrer_manifest_verifies_through_its_layer(pki, signer):
    key, chain = signer
    artifact = notation_referrer(notation_jws(key, chain, DESCRIPTOR), TARGET.digest, TARGET.size)
    verdict = verify_notation_manifest(
        artifact.manifest, artifact.blobs, TARGET, statement(), stores(pki), NOW
    )
    assert verdict.layout == "jws"


def test_signature_for_another_digest_is_refused(pki, signer):
    key, chain = signer
    other = dict(DESCRIPTOR, digest=digest_of(b"other"))
    with pytest.raises(DigestMismatchError):
        verify(notation_jws(key, chain, other), pki)


def test_signature_naming_another_size_or_media_type_is_refused(pki, signer):
    key, chain = signer
    with pytest.raises(DigestMismatchError):
        verify(notation_jws(key, chain, dict(DESCRIPTOR, size=TARGET.size + 1)), pki)
    with pytest.raises(DigestMismatchError):
        verify(notation_jws(key, chain, dict(DESCRIPTOR, mediaType="text/plain")), pki)


def test_chain_to_an_untrusted_root_is_refused(signer):
    key, chain = signer
    with pytest.raises(CertificateChainError, match="not in trust store"):
        verify(notation_jws(key, chain, DESCRIPTOR), Pki.create())


def test_untrusted_identity_is_refused(pki, signer):
    key, chain = signer
    with pytest.raises(IdentityMismatchError):
        verify(
            notation_jws(key, chain, DESCRIPTOR),
            pki,
            identities=["x509.subject: C=US, ST=WA, O=acme, CN=someone else"],
        )


def test_expired_certificate_is_refused_under_strict_and_logged_under_permissive(pki):
    key = ec.generate_private_key(ec.SECP256R1())
    old = pki.leaf(key, not_before=NOW - dt.timedelta(days=400), days=30)
    envelope = notation_jws(key, [old, pki.root], DESCRIPTOR)
    with pytest.raises(SigningTimeError):
        verify(envelope, pki)
    verdict = verify(envelope, pki, level="permissive")
    assert verdict.notes and verdict.notes[0].startswith("authenticTimestamp")


def test_revoked_certificate_is_refused(pki, signer):
    key, chain = signer
    envelope = notation_jws(key, chain, DESCRIPTOR)
    with pytest.raises(RevokedCertificateError):
        verify(envelope, pki, revoked=[certificate_fingerprint(chain[0])])
    verdict = verify(
        envelope, pki, revoked=[certificate_fingerprint(chain[0])], override={"revocation": "skip"}
    )
    assert verdict.notes == ()


def test_expired_signature_is_refused_unless_expiry_is_only_logged(pki, signer):
    key, chain = signer
    envelope = notation_jws(key, chain, DESCRIPTOR, expiry=NOW - dt.timedelta(minutes=1))
    with pytest.raises(SignatureExpiredError):
        verify(envelope, pki)
    assert verify(envelope, pki, override={"expiry": "log"}).notes[0].startswith("expiry")


def test_altered_signed_attributes_are_refused(pki, signer):
    key, chain = signer
    envelope = json.loads(notation_jws(key, chain, DESCRIPTOR, expiry=NOW - dt.timedelta(days=1)))
    protected = json.loads(base64.urlsafe_b64decode(envelope["protected"] + "=="))
    protected["io.cncf.notary.expiry"] = "2099-01-01T00:00:00Z"
    envelope["protected"] = b64url(json.dumps(protected).encode())
    with pytest.raises(UntrustedSignerError):
        verify(json.dumps(envelope).encode(), pki)


def test_tampered_payload_is_refused(pki, signer):
    key, chain = signer
    envelope = json.loads(notation_jws(key, chain, dict(DESCRIPTOR, size=1)))
    envelope["payload"] = b64url(json.dumps({"targetArtifact": DESCRIPTOR}).encode())
    with pytest.raises(UntrustedSignerError):
        verify(json.dumps(envelope).encode(), pki)


def test_alg_must_be_the_one_the_key_demands(pki, signer):
    key, chain = signer  # RSA 3072 demands PS384
    with pytest.raises(UnsupportedAlgorithmError, match="needs PS384"):
        verify(notation_jws(key, chain, DESCRIPTOR, alg="PS256"), pki)


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256"])
def test_alg_outside_the_approved_set_is_refused(pki, signer, alg):
    key, chain = signer
    envelope = json.loads(notation_jws(key, chain, DESCRIPTOR))
    protected = json.loads(base64.urlsafe_b64decode(envelope["protected"] + "=="))
    protected["alg"] = alg
    envelope["protected"] = b64url(json.dumps(protected).encode())
    with pytest.raises(UnsupportedAlgorithmError):
        verify(json.dumps(envelope).encode(), pki)


def test_unknown_critical_header_is_refused(pki, signer):
    key, chain = signer
    envelope = notation_jws(
        key,
        chain,
        DESCRIPTOR,
        protected_extra={"io.cncf.notary.verificationPlugin": "x"},
        crit=["io.cncf.notary.signingScheme", "io.cncf.notary.verificationPlugin"],
    )
    with pytest.raises(UnsupportedAlgorithmError, match="verificationPlugin"):
        verify(envelope, pki)


def test_crit_must_list_the_signing_scheme_and_expiry(pki, signer):
    key, chain = signer
    with pytest.raises(MalformedSignatureError, match="critical"):
        verify(notation_jws(key, chain, DESCRIPTOR, crit=[]), pki)
    with pytest.raises(MalformedSignatureError, match="expiry must be marked critical"):
        verify(
            notation_jws(
                key,
                chain,
                DESCRIPTOR,
                expiry=NOW + dt.timedelta(days=1),
                crit=["io.cncf.notary.signingScheme"],
            ),
            pki,
        )


def test_a_non_code_signing_leaf_is_refused(pki):
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = pki.leaf(key, code_signing=False)
    with pytest.raises(CertificateChainError, match="code signing"):
        verify(notation_jws(key, [leaf, pki.root], DESCRIPTOR), pki)


def test_audit_logs_an_untrusted_signer_but_not_a_broken_signature(signer, pki):
    key, chain = signer
    stranger = Pki.create()
    verdict = verify(notation_jws(key, chain, DESCRIPTOR), stranger, level="audit")
    assert verdict.notes[0].startswith("authenticity")
    envelope = json.loads(notation_jws(key, chain, DESCRIPTOR))
    envelope["signature"] = b64url(b"\0" * 384)
    with pytest.raises(UntrustedSignerError):
        verify(json.dumps(envelope).encode(), stranger, level="audit")


def test_skip_verifies_nothing(pki):
    verdict = verify(b"not even json", pki, level="skip")
    assert verdict.notes == ("trust policy acme skips verification",)


def test_policy_scope_selection_and_validation():
    document = TrustPolicyDocument.from_dict(
        {
            "version": "1.0",
            "trustPolicies": [
                trust_policy(scopes=["hub.example/acme/app"])["trustPolicies"][0],
                dict(trust_policy(level="audit")["trustPolicies"][0], name="rest"),
            ],
        }
    )
    assert document.select("hub.example/acme/app").name == "acme"
    assert document.select("hub.example/acme/other").name == "rest"
    with pytest.raises(TrustPolicyError, match="no trust policy"):
        TrustPolicyDocument.from_dict(trust_policy(scopes=["hub.example/a"])).select("x/b")
    for broken in (
        trust_policy(identities=["x509.subject: CN=only"]),
        trust_policy(stores=["acme"]),
        trust_policy(override={"integrity": "log"}),
        trust_policy(
            identities=[
                "x509.subject: C=US, ST=WA, O=acme, OU=org1",
                "x509.subject: C=US, ST=WA, O=acme",
            ]
        ),
        {"version": "2.0", "trustPolicies": []},
    ):
        with pytest.raises(TrustPolicyError):
            TrustPolicyDocument.from_dict(broken)
