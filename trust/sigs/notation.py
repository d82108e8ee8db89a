"""Notation signatures in JWS envelopes (Notary Project signature specification, JWS envelope).

Notation attaches a signature as a referrer manifest (`artifactType`
`application/vnd.cncf.notary.signature`, `subject` the image) whose one layer
(`application/jose+json`) is a flattened JWS JSON envelope::

    {"payload": b64url({"targetArtifact": {"mediaType", "digest", "size", ...}}),
     "protected": b64url({"alg": "PS256", "cty": "application/vnd.cncf.notary.payload.v1+json",
                          "crit": ["io.cncf.notary.signingScheme", ...],
                          "io.cncf.notary.signingScheme": "notary.x509",
                          "io.cncf.notary.signingTime": "...", "io.cncf.notary.expiry": "..."}),
     "header": {"x5c": [b64(DER leaf), ..., b64(DER root)], "io.cncf.notary.signingAgent": "..."},
     "signature": b64url(sign(ascii(protected "." payload)))}

Validations run in the specification's order (integrity, authenticity, expiry, authentic
timestamp, revocation), each enforced or logged as the trust policy's level says:

* integrity: the envelope parses; `cty`, `crit` and the signing scheme's attributes are as
  required; `alg` is the one the leaf key demands (PS256/384/512 for RSA 2048/3072/4096,
  ES256/384/512 for P-256/384/521); the signature verifies; the payload's `targetArtifact`
  has the image's media type, digest and size;
* authenticity: the `x5c` chain ends at a root of the statement's trust stores and the leaf's
  subject is a trusted identity;
* expiry: `io.cncf.notary.expiry`, when present, has not passed;
* authentic timestamp: with `notary.x509` and no verified countersignature the chain must be
  valid now (the claimed `signingTime` is untrusted); with `notary.x509.signingAuthority`, at
  `io.cncf.notary.authenticSigningTime`;
* revocation: no certificate of the chain is revoked by its trust store.

RFC 3161 countersignatures (`io.cncf.notary.timestampSignature`) are not read; ignoring one
only makes the timestamp check stricter. COSE envelopes are not handled here.

Scope: verification of bytes the caller fetched; "now" is a parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from trust.sigs.errors import (
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    SignatureExpiredError,
    SignatureVerificationError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
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
    b64decode,
    b64url_decode,
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
    "JWS_MEDIA_TYPE",
    "NOTATION_ARTIFACT_TYPE",
    "PAYLOAD_MEDIA_TYPE",
    "JwsEnvelope",
    "TargetArtifact",
    "expected_alg",
    "notation_layers",
    "verify_jws",
    "verify_notation_manifest",
]

logger = logging.getLogger(__name__)

NOTATION_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
JWS_MEDIA_TYPE = "application/jose+json"
PAYLOAD_MEDIA_TYPE = "application/vnd.cncf.notary.payload.v1+json"

SIGNING_SCHEME = "io.cncf.notary.signingScheme"
SIGNING_TIME = "io.cncf.notary.signingTime"
AUTHENTIC_SIGNING_TIME = "io.cncf.notary.authenticSigningTime"
EXPIRY_HEADER = "io.cncf.notary.expiry"
X509 = "notary.x509"
SIGNING_AUTHORITY = "notary.x509.signingAuthority"

# Headers this verifier understands, and which of them must be listed in `crit` when present.
_CRITICAL = (SIGNING_SCHEME, AUTHENTIC_SIGNING_TIME, EXPIRY_HEADER)
_UNPROTECTED = {"x5c", "io.cncf.notary.signingAgent", "io.cncf.notary.timestampSignature"}
_RSA_ALGS = {2048: "PS256", 3072: "PS384", 4096: "PS512"}
_EC_ALGS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}


@dataclass(frozen=True)
class TargetArtifact:
    """The descriptor a signature must name: the image's media type, digest and size."""

    media_type: str
    digest: str
    size: int


def expected_alg(certificate: x509.Certificate) -> str:
    """The JWS `alg` the leaf certificate's key demands.

    Raises:
        UnsupportedAlgorithmError: a key type or size the specification does not approve.
    """
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey) and key.key_size in _RSA_ALGS:
        return _RSA_ALGS[key.key_size]
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGS:
        return _EC_ALGS[key.curve.name]
    raise UnsupportedAlgorithmError(
        "signing certificate key is not RSA 2048/3072/4096 or ECDSA P-256/384/521"
    )


@dataclass(frozen=True)
class JwsEnvelope:
    """A parsed Notation JWS envelope (integrity of its structure checked)."""

    signing_input: bytes
    signature: bytes
    protected: Mapping[str, Any]
    payload: Mapping[str, Any]
    chain: tuple[x509.Certificate, ...]

    @classmethod
    def from_bytes(cls, data: bytes) -> JwsEnvelope:
        """Parse a flattened JWS JSON envelope and check its headers.

        Raises:
            MalformedSignatureError: not a Notation JWS envelope.
            UnsupportedAlgorithmError: `alg` not in the approved set, or unknown critical headers.
        """
        document = load_json_object(data, "JWS envelope")
        if set(document) - {"header"} != {"payload", "protected", "signature"}:
            raise MalformedSignatureError(
                "JWS envelope must have exactly payload, protected, header and signature"
            )
        protected = load_json_object(
            b64url_decode(document["protected"], "JWS protected header"), "JWS protected header"
        )
        _check_protected(protected)
        header = document.get("header")
        if not isinstance(header, dict) or set(header) - _UNPROTECTED:
            raise MalformedSignatureError("JWS unprotected header is missing or has unknown fields")
        x5c = header.get("x5c")
        if not isinstance(x5c, list) or not x5c:
            raise MalformedSignatureError("JWS envelope has no x5c certificate chain")
        try:
            chain = tuple(x509.load_der_x509_certificate(b64decode(c, "x5c")) for c in x5c)
        except ValueError as exc:
            raise MalformedSignatureError(f"x5c holds a bad certificate: {exc}") from exc
        payload = load_json_object(b64url_decode(document["payload"], "JWS payload"), "JWS payload")
        return cls(
            signing_input=f"{document['protected']}.{document['payload']}".encode("ascii"),
            signature=b64url_decode(document["signature"], "JWS signature"),
            protected=protected,
            payload=payload,
            chain=chain,
        )

    @property
    def scheme(self) -> str:
        """The signing scheme (`notary.x509` or `notary.x509.signingAuthority`)."""
        return str(self.protected[SIGNING_SCHEME])

    def time(self, name: str) -> dt.datetime | None:
        """A time-valued protected header, parsed (None when absent)."""
        value = self.protected.get(name)
        return None if value is None else _parse_time(value, name)

    def check_signature(self) -> None:
        """The leaf key verifies the signature with the algorithm it demands.

        Raises:
            UnsupportedAlgorithmError: `alg` is not what the leaf key demands.
            UntrustedSignerError: the signature does not verify (tampered header or payload).
        """
        leaf = self.chain[0]
        alg = self.protected["alg"]
        if alg != expected_alg(leaf):
            raise UnsupportedAlgorithmError(
                f"JWS alg {alg} does not match the signing key (needs {expected_alg(leaf)})"
            )
        algorithm = _HASHES[alg[2:]]()
        key = leaf.public_key()
        try:
            if isinstance(key, rsa.RSAPublicKey):
                key.verify(
                    self.signature,
                    self.signing_input,
                    padding.PSS(padding.MGF1(algorithm), algorithm.digest_size),
                    algorithm,
                )
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(
                    _der_signature(self.signature, key), self.signing_input, ec.ECDSA(algorithm)
                )
        except InvalidSignature as exc:
            raise UntrustedSignerError("JWS signature does not verify with its certificate") from (
                exc
            )

    def check_target(self, target: TargetArtifact) -> None:
        """The signed payload names `target`.

        Raises:
            MalformedSignatureError: the payload has no targetArtifact descriptor.
            DigestMismatchError: it names another artifact, size or media type.
        """
        artifact = self.payload.get("targetArtifact")
        if not isinstance(artifact, dict):
            raise MalformedSignatureError("Notation payload has no targetArtifact")
        named = (artifact.get("mediaType"), artifact.get("digest"), artifact.get("size"))
        if named != (target.media_type, target.digest, target.size):
            raise DigestMismatchError(
                f"Notation signature is for {artifact.get('digest')} ({artifact.get('mediaType')},"
                f" {artifact.get('size')} bytes), not {target.digest}"
            )


def verify_jws(
    envelope: bytes,
    target: TargetArtifact,
    statement: TrustPolicyStatement,
    stores: Mapping[str, TrustStore],
    now: dt.datetime,
) -> Verdict:
    """Verify a Notation JWS envelope under one trust policy statement.

    Args:
        envelope: the envelope bytes (the signature manifest's layer).
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
            "jws",
            notes=(f"trust policy {statement.name} skips verification",),
        )
    parsed = JwsEnvelope.from_bytes(envelope)
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
        "jws",
        signed_at=parsed.time(AUTHENTIC_SIGNING_TIME) or parsed.time(SIGNING_TIME),
        notes=tuple(notes),
    )


def notation_layers(manifest: bytes, image_digest: str) -> list[str]:
    """The JWS envelope blob digests of a Notation signature manifest about `image_digest`.

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
        check_digest(layer.get("digest"))
        for layer in layers
        if isinstance(layer, dict) and layer.get("mediaType") == JWS_MEDIA_TYPE
    ]


def verify_notation_manifest(
    manifest: bytes,
    blobs: Mapping[str, bytes],
    target: TargetArtifact,
    statement: TrustPolicyStatement,
    stores: Mapping[str, TrustStore],
    now: dt.datetime,
) -> Verdict:
    """Verify a Notation signature referrer: it counts when its JWS envelope verifies.

    Raises:
        SignatureVerificationError: the envelope does not verify (or is missing).
    """
    errors: list[SignatureVerificationError] = []
    for digest in notation_layers(manifest, target.digest):
        try:
            return verify_jws(check_blob(blobs[digest], digest), target, statement, stores, now)
        except KeyError:
            errors.append(MalformedSignatureError(f"signature blob {digest} is missing"))
        except SignatureVerificationError as exc:
            errors.append(exc)
    if not errors:
        raise MalformedSignatureError("Notation signature manifest has no JWS envelope")
    raise closest(errors)


def _check_protected(protected: Mapping[str, Any]) -> None:
    alg = protected.get("alg")
    if not isinstance(alg, str) or alg not in {*_RSA_ALGS.values(), *_EC_ALGS.values()}:
        raise UnsupportedAlgorithmError(f"JWS alg {alg!r} is not an approved algorithm")
    if protected.get("cty") != PAYLOAD_MEDIA_TYPE:
        raise MalformedSignatureError(f"JWS cty {protected.get('cty')!r} is not the payload's")
    crit = protected.get("crit")
    if not isinstance(crit, list) or not all(isinstance(c, str) for c in crit):
        raise MalformedSignatureError("JWS crit must be a list of header names")
    # RFC 7515 §4.1.11: a critical header the verifier does not understand (a plugin's, say)
    # fails verification; an unknown non-critical one is signed but ignored.
    for name in crit:
        if name not in _CRITICAL or name not in protected:
            raise UnsupportedAlgorithmError(f"JWS crit lists {name!r}, not understood here")
    for name in _CRITICAL:
        if name in protected and name not in crit:
            raise MalformedSignatureError(f"JWS header {name} must be marked critical")
    scheme = protected.get(SIGNING_SCHEME)
    if scheme == X509:
        if SIGNING_TIME not in protected or AUTHENTIC_SIGNING_TIME in protected:
            raise MalformedSignatureError("notary.x509 needs signingTime, not authenticSigningTime")
    elif scheme == SIGNING_AUTHORITY:
        if AUTHENTIC_SIGNING_TIME not in protected or SIGNING_TIME in protected:
            raise MalformedSignatureError(
                "notary.x509.signingAuthority needs authenticSigningTime, not signingTime"
            )
    else:
        raise MalformedSignatureError(f"unknown signing scheme {scheme!r}")
    for name in (SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY_HEADER):
        if name in protected:
            _parse_time(protected[name], name)


def _parse_time(value: Any, name: str) -> dt.datetime:
    if not isinstance(value, str):
        raise MalformedSignatureError(f"{name} is not an RFC 3339 time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise MalformedSignatureError(f"{name} is not an RFC 3339 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise MalformedSignatureError(f"{name} has no time zone: {value!r}")
    return parsed.astimezone(dt.UTC)


def _der_signature(raw: bytes, key: ec.EllipticCurvePublicKey) -> bytes:
    """JWS ECDSA signatures are r || s, each the curve's byte length (RFC 7518 §3.4)."""
    size = (key.curve.key_size + 7) // 8
    if len(raw) != 2 * size:
        raise UntrustedSignerError("JWS ECDSA signature has the wrong length")
    r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
    return encode_dss_signature(r, s)
