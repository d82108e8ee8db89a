"""The signature policy: which formats count, whom they trust, and indexes."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.signatures import (
    NOW,
    OCI_MANIFEST,
    Pki,
    bundle_referrer,
    cosign_signature,
    digest_of,
    dsse_bundle,
    new_key,
    notation_jws,
    notation_referrer,
    public_pem,
    trust_policy,
)
from trust.sigs.errors import TrustPolicyError
from trust.sigs.policy import (
    COSIGN_SIG_TAG,
    NOTATION_SIGNATURE,
    SIGSTORE_BUNDLE,
    Decision,
    SignatureArtifact,
    SignaturePolicy,
    Subject,
    artifact_kind,
    is_signature_artifact,
)
from trust.sigs.verdict import Verdict

MANIFEST = b'{"schemaVersion":2}'
SUBJECT = Subject(
    "acme/app", digest_of(MANIFEST), OCI_MANIFEST, len(MANIFEST), MANIFEST, host="hub.example"
)


@pytest.fixture(scope="module")
def material():
    key = new_key()
    pki = Pki.create()
    nkey = ec.generate_private_key(ec.SECP256R1())
    return key, pki, nkey, [pki.leaf(nkey), pki.root]


def policy(material, formats, **extra) -> SignaturePolicy:
    key, pki, _, _ = material
    document = {
        "formats": formats,
        "cosign": {"keys": [public_pem(key).decode()]},
        "notation": {
            "trustPolicy": trust_policy(),
            "trustStores": {"ca:acme": {"certificates": pki.root_pem().decode()}},
        },
        **extra,
    }
    document = {
        k: v for k, v in document.items() if k not in ("cosign", "notation") or k in formats
    }
    return SignaturePolicy.from_dict(document)


def cosign_tag(key, digest=SUBJECT.digest) -> SignatureArtifact:
    artifact = cosign_signature(key, digest)
    return SignatureArtifact(COSIGN_SIG_TAG, artifact.manifest, artifact.blobs)


def notation(material, digest=SUBJECT.digest) -> SignatureArtifact:
    _, _, nkey, chain = material
    descriptor = {"mediaType": OCI_MANIFEST, "digest": digest, "size": SUBJECT.size}
    artifact = notation_referrer(notation_jws(nkey, chain, descriptor), digest, SUBJECT.size)
    return SignatureArtifact(NOTATION_SIGNATURE, artifact.manifest, artifact.blobs)


def test_any_counted_format_suffices(material):
    both = policy(material, ["cosign", "notation"])
    assert both.decide(SUBJECT, [cosign_tag(material[0])], NOW).signed
    assert both.decide(SUBJECT, [notation(material)], NOW).signed


def test_a_format_not_counted_is_ignored(material):
    only_notation = policy(material, ["notation"])
    decision = only_notation.decide(SUBJECT, [cosign_tag(material[0])], NOW)
    assert not decision.signed
    assert decision.explain() == "notation: no signature found"


def test_refusal_names_what_failed_per_format(material):
    both = policy(material, ["cosign", "notation"])
    other = digest_of(b"other")
    decision = both.decide(SUBJECT, [cosign_tag(material[0], other)], NOW)
    assert not decision.signed
    assert f"cosign: cosign signature is for {other}" in decision.explain()
    assert "notation: no signature found" in decision.explain()


def test_untrusted_key_does_not_count(material):
    decision = policy(material, ["cosign"]).decide(SUBJECT, [cosign_tag(new_key())], NOW)
    assert not decision.signed
    assert "not verified by any trusted key" in decision.explain()


def test_bundles_count_as_cosign(material):
    artifact = bundle_referrer(dsse_bundle(material[0], SUBJECT.digest), SUBJECT.digest, 9)
    found = SignatureArtifact(SIGSTORE_BUNDLE, artifact.manifest, artifact.blobs)
    assert policy(material, ["cosign"]).decide(SUBJECT, [found], NOW).signed


def test_dct_counts_through_the_callers_verdict(material):
    dct = policy(material, ["dct"])
    assert not dct.decide(SUBJECT, [], NOW).signed
    verdict = Verdict("dct", SUBJECT.digest, "targets", "tuf")
    assert dct.decide(SUBJECT, [], NOW, dct=verdict).signed


def test_removing_a_key_changes_the_version_and_the_decision(material):
    before = policy(material, ["cosign"])
    after = SignaturePolicy.from_dict(
        {"formats": ["cosign"], "cosign": {"keys": [public_pem(new_key()).decode()]}}
    )
    assert before.version != after.version
    assert before.version == policy(material, ["cosign"]).version
    assert not after.decide(SUBJECT, [cosign_tag(material[0])], NOW).signed


def test_index_counts_when_it_or_every_platform_is_signed(material):
    yes, no = Decision(True, (Verdict("cosign", "d", "k", "sig-tag"),)), Decision(False, (), ("x",))
    strict = policy(material, ["cosign"])
    platforms = policy(material, ["cosign"], platforms=True)
    assert strict.decide_index(yes, []).signed
    assert not strict.decide_index(no, [yes, yes]).signed
    assert platforms.decide_index(no, [yes, yes]).signed
    refused = platforms.decide_index(no, [yes, no])
    assert not refused.signed and "not every platform" in refused.explain()
    assert not platforms.decide_index(no, []).signed


def test_artifact_kinds_by_artifact_type():
    assert artifact_kind("application/vnd.dev.sigstore.bundle.v0.3+json") == SIGSTORE_BUNDLE
    assert artifact_kind("application/vnd.cncf.notary.signature") == NOTATION_SIGNATURE
    assert artifact_kind("application/spdx+json") is None


@pytest.mark.parametrize(
    "document",
    [
        {"formats": []},
        {"formats": ["pgp"]},
        {"formats": ["cosign"]},
        {"formats": ["cosign"], "cosign": {"keys": ["not pem"]}},
        {"formats": ["notation"], "notation": {"trustPolicy": trust_policy()}},
        {"formats": ["dct"], "extra": 1},
    ],
)
def test_bad_documents_are_refused(document):
    with pytest.raises(TrustPolicyError):
        SignaturePolicy.from_dict(document)


def test_notation_expiry_uses_the_given_now(material):
    _, _, nkey, chain = material
    descriptor = {"mediaType": OCI_MANIFEST, "digest": SUBJECT.digest, "size": SUBJECT.size}
    envelope = notation_jws(nkey, chain, descriptor, expiry=NOW + dt.timedelta(days=1))
    artifact = notation_referrer(envelope, SUBJECT.digest, SUBJECT.size)
    found = SignatureArtifact(NOTATION_SIGNATURE, artifact.manifest, artifact.blobs)
    notation_only = policy(material, ["notation"])
    assert notation_only.decide(SUBJECT, [found], NOW).signed
    late = notation_only.decide(SUBJECT, [found], NOW + dt.timedelta(days=2))
    assert not late.signed and "expired" in late.explain()


def test_notation_scope_matches_the_repository_under_any_host_when_the_host_is_unknown(material):
    pki = material[1]
    document = {
        "formats": ["notation"],
        "notation": {
            "trustPolicy": trust_policy(scopes=["hub.example:5000/acme/app"]),
            "trustStores": {"ca:acme": {"certificates": pki.root_pem().decode()}},
        },
    }
    scoped = SignaturePolicy.from_dict(document)
    hostless = Subject(SUBJECT.repository, SUBJECT.digest, OCI_MANIFEST, SUBJECT.size)
    assert scoped.decide(hostless, [notation(material)], NOW).signed
    elsewhere = Subject("acme/other", SUBJECT.digest, OCI_MANIFEST, SUBJECT.size)
    refused = scoped.decide(elsewhere, [notation(material)], NOW)
    assert "no trust policy applies to acme/other" in refused.explain()
    assert not scoped.decide(SUBJECT, [notation(material)], NOW).signed  # hub.example != :5000


def test_keyless_bundles_count_with_a_keyless_trust_root():
    from tests.support.signatures import Sigstore, keyless_bundle

    sigstore = Sigstore.create()
    document = {
        "formats": ["cosign"],
        "cosign": {
            "keyless": {
                "fulcio": sigstore.trust_pems(),
                "rekor": [sigstore.log_pem()],
                "identities": [{"issuer": "https://issuer.acme.test", "subject": "dev@acme.test"}],
            }
        },
    }
    keyless = SignaturePolicy.from_dict(document)
    artifact = bundle_referrer(keyless_bundle(sigstore, SUBJECT.digest), SUBJECT.digest, 9)
    found = SignatureArtifact(SIGSTORE_BUNDLE, artifact.manifest, artifact.blobs)
    decision = keyless.decide(SUBJECT, [found], NOW)
    assert decision.signed and decision.verdicts[0].signer.startswith("dev@acme.test")
    other = dict(document["cosign"]["keyless"], identities=[{"issuer": "x", "subject": "y"}])
    refused = SignaturePolicy.from_dict({"formats": ["cosign"], "cosign": {"keyless": other}})
    assert "not a trusted identity" in refused.decide(SUBJECT, [found], NOW).explain()
    with pytest.raises(TrustPolicyError):
        SignaturePolicy.from_dict(
            {"formats": ["cosign"], "cosign": {"keyless": {"fulcio": [], "rekor": []}}}
        )


@pytest.fixture(scope="module")
def sigstore():
    from tests.support.signatures import Sigstore

    return Sigstore.create()


@pytest.mark.parametrize(
    ("identity", "signed"),
    [
        ({"issuer": "https://issuer.acme.test", "subjectRegExp": "@acme\\.test$"}, True),
        ({"issuerRegExp": "^https://issuer\\.", "subject": "dev@acme.test"}, True),
        ({"issuerRegExp": "acme", "subjectRegExp": "^dev@"}, True),
        ({"issuer": "https://issuer.acme.test", "subjectRegExp": "^ops@"}, False),
        ({"issuerRegExp": "^https://other", "subjectRegExp": "."}, False),
    ],
)
def test_keyless_identities_may_be_regular_expressions(sigstore, identity, signed):
    from tests.support.signatures import keyless_bundle

    keyless = {"fulcio": sigstore.trust_pems(), "rekor": [sigstore.log_pem()]}
    policy = SignaturePolicy.from_dict(
        {"formats": ["cosign"], "cosign": {"keyless": {**keyless, "identities": [identity]}}}
    )
    artifact = bundle_referrer(keyless_bundle(sigstore, SUBJECT.digest), SUBJECT.digest, 9)
    found = SignatureArtifact(SIGSTORE_BUNDLE, artifact.manifest, artifact.blobs)
    decision = policy.decide(SUBJECT, [found], NOW)
    assert decision.signed is signed, decision.explain()


@pytest.mark.parametrize(
    "identity",
    [
        {"issuer": "a", "issuerRegExp": "b", "subject": "c"},  # both forms of one field
        {"subject": "c"},  # no issuer at all
        {"issuer": "a", "subjectRegExp": "("},  # not a regular expression
        {"issuer": "a", "subject": "c", "email": "d"},  # an unknown key
    ],
)
def test_bad_keyless_identities_are_refused(sigstore, identity):
    keyless = {
        "fulcio": sigstore.trust_pems(),
        "rekor": [sigstore.log_pem()],
        "identities": [identity],
    }
    with pytest.raises(TrustPolicyError, match="identit"):
        SignaturePolicy.from_dict({"formats": ["cosign"], "cosign": {"keyless": keyless}})


def test_signature_artifacts_are_recognised_and_images_are_not(material):
    key = material[0]
    assert is_signature_artifact(cosign_signature(key, SUBJECT.digest).manifest)
    bundle = bundle_referrer(dsse_bundle(key, SUBJECT.digest), SUBJECT.digest, 9)
    assert is_signature_artifact(bundle.manifest)
    assert is_signature_artifact(notation(material).manifest)
    # An image in disguise: a signature artifact type over an image config and a tar layer.
    disguised = json.loads(bundle.manifest)
    disguised["config"]["mediaType"] = "application/vnd.oci.image.config.v1+json"
    assert not is_signature_artifact(json.dumps(disguised).encode())
    disguised = json.loads(bundle.manifest)
    disguised["layers"].append(
        {
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": SUBJECT.digest,
            "size": 1,
        }
    )
    assert not is_signature_artifact(json.dumps(disguised).encode())
    assert not is_signature_artifact(MANIFEST)
    assert not is_signature_artifact(b"not json")
