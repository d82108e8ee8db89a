"""Sigstore bundles attached to an image as OCI 1.1 referrers, verified with a trusted key.

cosign v3 (and the Sigstore JavaScript libraries) attach a signature as a referrer manifest
with `artifactType` `application/vnd.dev.sigstore.bundle.v0.3+json`, `subject` the image and
one layer holding the bundle JSON (cosign's BUNDLE_SPEC). A bundle carries either

* `messageSignature`: `messageDigest` {algorithm `SHA2_256`, base64 digest} and a signature
  over the signed artifact (here the image manifest), or
* `dsseEnvelope`: a DSSE envelope of an in-toto statement whose subject digest is the image
  (cosign v3 signs `https://sigstore.dev/cosign/sign/v1` statements this way).

A bundle signed with a key (`verificationMaterial.publicKey`) counts when one of the policy's
keys verifies it. A keyless bundle (a Fulcio certificate) counts only when the policy gives a
keyless trust root: certificate chain, identity and transparency-log entry are then checked
offline by `trust.sigs.keyless`; without one it is refused with `UnsupportedAlgorithmError`.

Scope: verification of bytes the caller fetched; no registry access.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from trust.sigs.dsse import IN_TOTO_PAYLOAD_TYPE, Envelope, Statement
from trust.sigs.errors import (
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    SignatureVerificationError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.keyless import KeylessTrust, LogEntryClaim, verify_keyless
from trust.sigs.keys import VerifyingKey
from trust.sigs.verdict import (
    COSIGN,
    Verdict,
    b64decode,
    check_blob,
    check_digest,
    closest,
    load_json_object,
)

__all__ = [
    "BUNDLE_MEDIA_TYPES",
    "SIGSTORE_BUNDLE_ARTIFACT_TYPE",
    "bundle_layers",
    "verify_bundle",
    "verify_bundle_manifest",
]

logger = logging.getLogger(__name__)

SIGSTORE_BUNDLE_ARTIFACT_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
BUNDLE_MEDIA_TYPES = (
    SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
)


def verify_bundle(
    bundle: bytes,
    image_digest: str,
    keys: Sequence[VerifyingKey],
    *,
    manifest: bytes | None = None,
    predicate_types: Sequence[str] = (),
    keyless: KeylessTrust | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """Verify a Sigstore bundle over the image `image_digest`.

    Args:
        bundle: the bundle JSON.
        image_digest: the digest of the image being checked.
        keys: the trusted keys.
        manifest: the image manifest bytes; needed for an Ed25519 message signature, which
            signs the message itself rather than its digest.
        predicate_types: when not empty, a DSSE statement must have one of these types.
        keyless: the trust root for keyless bundles (None: keyless bundles are refused).
        now: the verification time; a keyless log entry integrated after it is refused.

    Raises:
        MalformedSignatureError: not a Sigstore bundle.
        UnsupportedAlgorithmError: a keyless bundle without a keyless trust root, or an
            unknown digest algorithm.
        CertificateChainError: a keyless certificate that does not chain, or was not valid
            when the log entry was made.
        UntrustedSignerError: no trusted key verifies the signature.
        DigestMismatchError: the signature covers another artifact.
        IdentityMismatchError: the statement's predicate type is not one the policy accepts.
    """
    check_digest(image_digest)
    document = load_json_object(bundle, "Sigstore bundle")
    if document.get("mediaType") not in BUNDLE_MEDIA_TYPES:
        raise MalformedSignatureError(f"not a Sigstore bundle: {document.get('mediaType')!r}")
    material = document.get("verificationMaterial")
    if not isinstance(material, dict):
        raise MalformedSignatureError("Sigstore bundle has no verificationMaterial")
    if "publicKey" not in material:
        if keyless is None:
            raise UnsupportedAlgorithmError(
                "keyless Sigstore bundles (Fulcio certificates) are not trusted by this policy"
            )
        return _verify_keyless(document, material, image_digest, keyless, predicate_types, now)
    if "dsseEnvelope" in document:
        return _verify_dsse(document["dsseEnvelope"], image_digest, keys, predicate_types)
    if "messageSignature" in document:
        return _verify_message(document["messageSignature"], image_digest, keys, manifest)
    raise MalformedSignatureError("Sigstore bundle has neither messageSignature nor dsseEnvelope")


def _verify_keyless(
    document: dict[str, Any],
    material: dict[str, Any],
    image_digest: str,
    trust: KeylessTrust,
    predicate_types: Sequence[str],
    now: dt.datetime | None,
) -> Verdict:
    """Check the certificate and log entry first, then the signature with the certificate's key."""
    if "dsseEnvelope" in document:
        envelope = Envelope.from_dict(document["dsseEnvelope"])
        if len(envelope.signatures) != 1:
            raise MalformedSignatureError("a keyless DSSE envelope carries one signature")
        claim = LogEntryClaim(envelope.signatures[0], dsse_payload=envelope.payload)
        key, signed_at = verify_keyless(material, claim, trust, now)
        verdict = _verify_dsse(document["dsseEnvelope"], image_digest, [key], predicate_types)
    elif "messageSignature" in document:
        raw = document["messageSignature"]
        if not isinstance(raw, dict) or not isinstance(raw.get("messageDigest"), dict):
            raise MalformedSignatureError("Sigstore messageSignature has no messageDigest")
        digest = b64decode(raw["messageDigest"].get("digest"), "Sigstore message digest")
        signature = b64decode(raw.get("signature"), "Sigstore message signature")
        key, signed_at = verify_keyless(
            material, LogEntryClaim(signature, message_digest=digest), trust, now
        )
        verdict = _verify_message(raw, image_digest, [key], None)
    else:
        raise MalformedSignatureError(
            "Sigstore bundle has neither messageSignature nor dsseEnvelope"
        )
    return Verdict(COSIGN, image_digest, verdict.signer, "bundle", signed_at=signed_at)


def _verify_dsse(
    raw: object, image_digest: str, keys: Sequence[VerifyingKey], predicate_types: Sequence[str]
) -> Verdict:
    envelope = Envelope.from_dict(raw)
    signer = envelope.verify(keys)
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise MalformedSignatureError(f"DSSE payload type {envelope.payload_type!r} is not in-toto")
    statement = Statement.from_bytes(envelope.payload)
    if image_digest not in statement.subject_digests:
        raise DigestMismatchError(
            f"Sigstore statement is about {sorted(statement.subject_digests)}, not {image_digest}"
        )
    if predicate_types and statement.predicate_type not in predicate_types:
        raise IdentityMismatchError(
            f"Sigstore statement type {statement.predicate_type!r} is not accepted"
        )
    return Verdict(COSIGN, image_digest, signer.name, "bundle")


def _verify_message(
    raw: object, image_digest: str, keys: Sequence[VerifyingKey], manifest: bytes | None
) -> Verdict:
    if not isinstance(raw, dict) or not isinstance(raw.get("messageDigest"), dict):
        raise MalformedSignatureError("Sigstore messageSignature has no messageDigest")
    if raw["messageDigest"].get("algorithm") != "SHA2_256":
        raise UnsupportedAlgorithmError(
            f"message digest algorithm {raw['messageDigest'].get('algorithm')!r} is not SHA2_256"
        )
    digest = b64decode(raw["messageDigest"].get("digest"), "Sigstore message digest")
    signature = b64decode(raw.get("signature"), "Sigstore message signature")
    signer = None
    for key in keys:
        if key.verify_digest(signature, digest) or (
            manifest is not None
            and hashlib.sha256(manifest).digest() == digest
            and key.verify(signature, manifest)
        ):
            signer = key
            break
    if signer is None:
        raise UntrustedSignerError("Sigstore message signature is not verified by any trusted key")
    if "sha256:" + digest.hex() != image_digest:
        raise DigestMismatchError(f"Sigstore message signature is for sha256:{digest.hex()}")
    return Verdict(COSIGN, image_digest, signer.name, "bundle")


def bundle_layers(manifest: bytes, image_digest: str) -> list[str]:
    """The bundle blob digests of a referrer manifest whose subject is `image_digest`.

    Raises:
        MalformedSignatureError: not a manifest with layers.
        DigestMismatchError: its subject is another artifact.
    """
    document = load_json_object(manifest, "Sigstore bundle manifest")
    subject = document.get("subject")
    if not isinstance(subject, dict) or subject.get("digest") != image_digest:
        raise DigestMismatchError("Sigstore bundle manifest is attached to another artifact")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise MalformedSignatureError("Sigstore bundle manifest has no layers")
    return [
        check_digest(layer.get("digest"))
        for layer in layers
        if isinstance(layer, dict) and layer.get("mediaType") in BUNDLE_MEDIA_TYPES
    ]


def verify_bundle_manifest(
    manifest: bytes,
    blobs: Mapping[str, bytes],
    image_digest: str,
    keys: Sequence[VerifyingKey],
    *,
    image_manifest: bytes | None = None,
    predicate_types: Sequence[str] = (),
    keyless: KeylessTrust | None = None,
    now: dt.datetime | None = None,
) -> Verdict:
    """Verify a Sigstore bundle referrer: it counts when any of its bundle layers verifies.

    Raises:
        SignatureVerificationError: no bundle verifies (the most telling failure).
    """
    errors: list[SignatureVerificationError] = []
    for digest in bundle_layers(manifest, image_digest):
        try:
            data = check_blob(blobs[digest], digest)
            return verify_bundle(
                data,
                image_digest,
                keys,
                manifest=image_manifest,
                predicate_types=predicate_types,
                keyless=keyless,
                now=now,
            )
        except KeyError:
            errors.append(MalformedSignatureError(f"bundle blob {digest} is missing"))
        except SignatureVerificationError as exc:
            errors.append(exc)
    if not errors:
        raise MalformedSignatureError("Sigstore bundle manifest has no bundle layer")
    raise closest(errors)
