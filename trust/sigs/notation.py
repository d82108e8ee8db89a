"""Notation signatures attached as referrers, verified under a Notation trust policy.

Notation attaches a signature as a referrer manifest (`artifactType`, or the config media type,
`application/vnd.cncf.notary.signature`; `subject` the image) whose layer is a JWS envelope
(`application/jose+json`) or a COSE_Sign1 envelope (`application/cose`); see
`trust.sigs.notation_envelope` and `trust.sigs.notation_cose`.

Validations run in the specification's order (integrity, authenticity, expiry, authentic
timestamp, revocation), each enforced or logged as the trust policy's level says:

* integrity: the envelope parses, its signed attributes are as required, the signature verifies
  with the algorithm the leaf key demands, and the payload names the image (always enforced);
* authenticity: the certificate chain ends at a root of the statement's trust stores and the
  leaf's subject is a trusted identity;
* expiry: `io.cncf.notary.expiry`, when present, has not passed;
* authentic timestamp: with `notary.x509` and no verified countersignature the chain must be
  valid now (the claimed `signingTime` is untrusted); with `notary.x509.signingAuthority`, at
  `io.cncf.notary.authenticSigningTime`;
* revocation: no certificate of the chain is revoked by its trust store.

RFC 3161 countersignatures (`io.cncf.notary.timestampSignature`) are not read; ignoring one
only makes the timestamp check stricter.

Scope: verification of bytes the caller fetched; "now" is a parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping

from trust.sigs.errors import (
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    SignatureExpiredError,
    SignatureVerificationError,
)
from trust.sigs.notation_cose import COSE_MEDIA_TYPE, parse_cose
from trust.sigs.notation_envelope import (
    AUTHENTIC_SIGNING_TIME,
    EXPIRY_HEADER,
    JWS_MEDIA_TYPE,
    NOTATION_ARTIFACT_TYPE,
    SIGNING_AUTHORITY,
    SIGNING_TIME,
    NotationEnvelope,
    TargetArtifact,
)
from trust.sigs.notation_policy import (
    AUTHENTIC_TIMESTAMP,
    AUTHENTICITY,
    ENFORCE,
    EXPIRY,
    LOG,
    REVOCATION,
    TrustPolicyStatement,
)
from trust.sigs.verdict import (
    NOTATION,
    Verdict,
    check_blob,
    check_digest,
    closest,
    load_json_object,
)
from trust.sigs.x509store import (
    TrustStore,
    check_chain_validity,
    check_revocation,
    verify_chain,
)

__all__ = [
    "COSE_MEDIA_TYPE",
    "JWS_MEDIA_TYPE",
    "NOTATION_ARTIFACT_TYPE",
    "TargetArtifact",
    "notation_layers",
    "parse_envelope",
    "verify_envelope",
    "verify_jws",
    "verify_notation_manifest",
]

logger = logging.getLogger(__name__)

ENVELOPE_MEDIA_TYPES = (JWS_MEDIA_TYPE, COSE_MEDIA_TYPE)


def parse_envelope(data: bytes, media_type: str) -> NotationEnvelope:
    """Parse a JWS or COSE envelope by its layer media type.

    Raises:
        MalformedSignatureError: an unknown media type or a malformed envelope.
        UnsupportedAlgorithmError: an unapproved algorithm or a critical header not understood.
    """
    if media_type == JWS_MEDIA_TYPE:
        return NotationEnvelope.from_jws(data)
    if media_type == COSE_MEDIA_TYPE:
        return parse_cose(data)
    raise MalformedSignatureError(f"unknown Notation envelope type {media_type!r}")


def verify_jws(
    envelope: bytes,
    target: TargetArtifact,
    statement: TrustPolicyStatement,
    stores: Mapping[str, TrustStore],
    now: dt.datetime,
) -> Verdict:
    """Verify a Notation JWS envelope under one trust policy statement (see `verify_envelope`)."""
    return verify_envelope(envelope, JWS_MEDIA_TYPE, target, statement, stores, now)


def verify_envelope(
    envelope: bytes,
    media_type: str,
    target: TargetArtifact,
    statement: TrustPolicyStatement,
    stores: Mapping[str, TrustStore],
    now: dt.datetime,
) -> Verdict:
    """Verify a Notation signature envelope under one trust policy statement.

    Args:
        envelope: the envelope bytes (the signature manifest's layer).
        media_type: `application/jose+json` (JWS) or `application/cose` (COSE_Sign1).
        target: the image the signature must name.
        statement: the trust policy statement selected for the image's repository.
        stores: trust stores by name (`ca:acme`); the statement picks from them.
        now: the verification time.

    Returns:
        The verdict; validations that failed but were only logged are in `notes`.

    Raises:
        SignatureVerificationError: a failure of a validation the level enforces.
    """
    check_digest(target.digest)
    level = statement.level
    if level.name == "skip":
        return Verdict(
            NOTATION,
            target.digest,
            "(not verified)",
            "cose" if media_type == COSE_MEDIA_TYPE else "jws",
            notes=(f"trust policy {statement.name} skips verification",),
        )
    parsed = parse_envelope(envelope, media_type)
    parsed.check_signature()
    parsed.check_target(target)
    notes: list[str] = []

    def run(validation: str, check: Callable[[], None]) -> None:
        action = level.action(validation)
        if action not in (ENFORCE, LOG):
            return
        try:
            check()
        except SignatureVerificationError as exc:
            if action == ENFORCE:
                raise
            logger.warning("notation %s check logged, not enforced: %s", validation, exc)
            notes.append(f"{validation}: {exc}")

    named = [stores[name] for name in statement.trust_stores if name in stores]
    kind = "signingAuthority:" if parsed.scheme == SIGNING_AUTHORITY else "ca:"
    usable = [store for store in named if store.name.startswith(kind)]
    found: list[TrustStore] = []

    def authenticity() -> None:
        found.append(verify_chain(parsed.chain, usable))
        if not statement.trusts_subject(parsed.chain[0]):
            raise IdentityMismatchError(
                f"signing certificate {parsed.chain[0].subject.rfc4514_string()} is not a"
                f" trusted identity of trust policy {statement.name}"
            )

    def expiry() -> None:
        expires = parsed.time(EXPIRY_HEADER)
        if expires is not None and now > expires:
            raise SignatureExpiredError(f"Notation signature expired at {expires.isoformat()}")

    def timestamp() -> None:
        at = parsed.time(AUTHENTIC_SIGNING_TIME) if parsed.scheme == SIGNING_AUTHORITY else now
        check_chain_validity(parsed.chain, at or now)

    def revocation() -> None:
        for store in found or usable:
            check_revocation(parsed.chain, store)

    run(AUTHENTICITY, authenticity)
    run(EXPIRY, expiry)
    run(AUTHENTIC_TIMESTAMP, timestamp)
    run(REVOCATION, revocation)
    return Verdict(
        NOTATION,
        target.digest,
        parsed.chain[0].subject.rfc4514_string(),
        parsed.format,
        signed_at=parsed.time(AUTHENTIC_SIGNING_TIME) or parsed.time(SIGNING_TIME),
        notes=tuple(notes),
    )


def notation_layers(manifest: bytes, image_digest: str) -> list[tuple[str, str]]:
    """The envelope layers (digest, media type) of a Notation signature manifest about
    `image_digest`.

    Raises:
        MalformedSignatureError: not a Notation signature manifest.
        DigestMismatchError: its subject is another artifact.
    """
    document = load_json_object(manifest, "Notation signature manifest")
    artifact_type = document.get("artifactType") or (document.get("config") or {}).get("mediaType")
    if artifact_type != NOTATION_ARTIFACT_TYPE:
        raise MalformedSignatureError("not a Notation signature manifest")
    subject = document.get("subject")
    if not isinstance(subject, dict) or subject.get("digest") != image_digest:
        raise DigestMismatchError("Notation signature manifest is attached to another artifact")
    layers = document.get("layers")
    if not isinstance(layers, list):
        raise MalformedSignatureError("Notation signature manifest has no layers")
    return [
        (check_digest(layer.get("digest")), layer["mediaType"])
        for layer in layers
        if isinstance(layer, dict) and layer.get("mediaType") in ENVELOPE_MEDIA_TYPES
    ]


def verify_notation_manifest(
    manifest: bytes,
    blobs: Mapping[str, bytes],
    target: TargetArtifact,
    statement: TrustPolicyStatement,
    stores: Mapping[str, TrustStore],
    now: dt.datetime,
) -> Verdict:
    """Verify a Notation signature referrer: it counts when its envelope verifies.

    Raises:
        SignatureVerificationError: the envelope does not verify (or is missing).
    """
    errors: list[SignatureVerificationError] = []
    for digest, media_type in notation_layers(manifest, target.digest):
        try:
            data = check_blob(blobs[digest], digest)
            return verify_envelope(data, media_type, target, statement, stores, now)
        except KeyError:
            errors.append(MalformedSignatureError(f"signature blob {digest} is missing"))
        except SignatureVerificationError as exc:
            errors.append(exc)
    if not errors:
        raise MalformedSignatureError("Notation signature manifest has no signature envelope")
    raise closest(errors)
