"""Notation signature envelopes: the format-neutral envelope and its JWS form.

Notation signs a payload naming the target artifact with signed attributes (the JWS protected
header, the COSE protected header) and carries the certificate chain unsigned (JWS `x5c`, COSE
`x5chain`). JWS (Notary Project signature-envelope-jws)::

    {"payload": b64url({"targetArtifact": {"mediaType", "digest", "size", ...}}),
     "protected": b64url({"alg": "PS256", "cty": "application/vnd.cncf.notary.payload.v1+json",
                          "crit": ["io.cncf.notary.signingScheme", ...],
                          "io.cncf.notary.signingScheme": "notary.x509",
                          "io.cncf.notary.signingTime": "...", "io.cncf.notary.expiry": "..."}),
     "header": {"x5c": [b64(DER leaf), ..., b64(DER root)], "io.cncf.notary.signingAgent": "..."},
     "signature": b64url(sign(ascii(protected "." payload)))}

Integrity checks live here: `cty`, `crit` and the scheme's attributes as required, `alg` the one
the leaf key demands (PS256/384/512 for RSA 2048/3072/4096, ES256/384/512 for P-256/384/521),
the signature verifying, and the payload naming the target's media type, digest and size.
COSE envelopes are parsed by `trust.sigs.notation_cose` into the same `NotationEnvelope`.

Scope: pure parsing and integrity checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from trust.sigs.errors import (
    DigestMismatchError,
    MalformedSignatureError,
    UnsupportedAlgorithmError,
    UntrustedSignerError,
)
from trust.sigs.verdict import b64decode, b64url_decode, load_json_object

__all__ = [
    "AUTHENTIC_SIGNING_TIME",
    "EXPIRY_HEADER",
    "JWS_MEDIA_TYPE",
    "NOTATION_ARTIFACT_TYPE",
    "PAYLOAD_MEDIA_TYPE",
    "SIGNING_AUTHORITY",
    "SIGNING_SCHEME",
    "SIGNING_TIME",
    "TIME_HEADERS",
    "NotationEnvelope",
    "TargetArtifact",
    "check_signed_attributes",
    "expected_alg",
    "load_chain",
]

NOTATION_ARTIFACT_TYPE = "application/vnd.cncf.notary.signature"
JWS_MEDIA_TYPE = "application/jose+json"
PAYLOAD_MEDIA_TYPE = "application/vnd.cncf.notary.payload.v1+json"

SIGNING_SCHEME = "io.cncf.notary.signingScheme"
SIGNING_TIME = "io.cncf.notary.signingTime"
AUTHENTIC_SIGNING_TIME = "io.cncf.notary.authenticSigningTime"
EXPIRY_HEADER = "io.cncf.notary.expiry"
X509 = "notary.x509"
SIGNING_AUTHORITY = "notary.x509.signingAuthority"
TIME_HEADERS = (SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY_HEADER)

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
class NotationEnvelope:
    """A parsed Notation signature envelope, JWS or COSE (its structure checked).

    Attributes:
        format: `jws` or `cose`.
        alg: the signature algorithm by its JWS name (`PS384`, `ES256`, ...).
        scheme: the signing scheme (`notary.x509` or `notary.x509.signingAuthority`).
        times: the time-valued signed attributes present, by header name.
        signing_input: the bytes the signature covers.
        signature: the signature (ECDSA as r || s, as both formats carry it).
        payload: the signed Notation payload.
        chain: the certificate chain, leaf first.
    """

    format: str
    alg: str
    scheme: str
    times: Mapping[str, dt.datetime]
    signing_input: bytes
    signature: bytes
    payload: Mapping[str, Any]
    chain: tuple[x509.Certificate, ...]

    @classmethod
    def from_jws(cls, data: bytes) -> NotationEnvelope:
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
        check_signed_attributes(protected)
        header = document.get("header")
        if not isinstance(header, dict) or set(header) - _UNPROTECTED:
            raise MalformedSignatureError("JWS unprotected header is missing or has unknown fields")
        x5c = header.get("x5c")
        if not isinstance(x5c, list) or not x5c:
            raise MalformedSignatureError("JWS envelope has no x5c certificate chain")
        payload = load_json_object(b64url_decode(document["payload"], "JWS payload"), "JWS payload")
        return cls(
            format="jws",
            alg=protected["alg"],
            scheme=protected[SIGNING_SCHEME],
            times={n: _parse_time(protected[n], n) for n in TIME_HEADERS if n in protected},
            signing_input=f"{document['protected']}.{document['payload']}".encode("ascii"),
            signature=b64url_decode(document["signature"], "JWS signature"),
            payload=payload,
            chain=load_chain(b64decode(c, "x5c") for c in x5c),
        )

    def time(self, name: str) -> dt.datetime | None:
        """A time-valued signed attribute (None when absent)."""
        return self.times.get(name)

    def check_signature(self) -> None:
        """The leaf key verifies the signature with the algorithm it demands.

        Raises:
            UnsupportedAlgorithmError: `alg` is not what the leaf key demands.
            UntrustedSignerError: the signature does not verify (tampered header or payload).
        """
        leaf = self.chain[0]
        alg = self.alg
        if alg != expected_alg(leaf):
            raise UnsupportedAlgorithmError(
                f"{self.format.upper()} alg {alg} does not match the signing key"
                f" (needs {expected_alg(leaf)})"
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
            raise UntrustedSignerError(
                f"{self.format.upper()} signature does not verify with its certificate"
            ) from exc

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


def check_signed_attributes(protected: Mapping[str, Any]) -> None:
    """Check the signed attributes, named as in the JWS header (COSE's are mapped to them).

    `alg` must be approved, `cty` the Notation payload type, every critical header understood
    and present, the critical ones present listed in `crit`, and the scheme's time attribute
    given (and the other one not).

    Raises:
        MalformedSignatureError: a required attribute missing or not marked critical.
        UnsupportedAlgorithmError: an unapproved `alg`, or a critical header not understood.
    """
    alg = protected.get("alg")
    if not isinstance(alg, str) or alg not in {*_RSA_ALGS.values(), *_EC_ALGS.values()}:
        raise UnsupportedAlgorithmError(f"alg {alg!r} is not an approved algorithm")
    if protected.get("cty") != PAYLOAD_MEDIA_TYPE:
        raise MalformedSignatureError(f"content type {protected.get('cty')!r} is not the payload's")
    crit = protected.get("crit")
    if not isinstance(crit, list) or not all(isinstance(c, str) for c in crit):
        raise MalformedSignatureError("crit must be a list of header names")
    # RFC 7515 §4.1.11, RFC 9052 §3.1: a critical header the verifier does not understand (a
    # plugin's, say) fails verification; an unknown non-critical one is signed but ignored.
    for name in crit:
        if name not in _CRITICAL or name not in protected:
            raise UnsupportedAlgorithmError(f"crit lists {name!r}, not understood here")
    for name in _CRITICAL:
        if name in protected and name not in crit:
            raise MalformedSignatureError(f"header {name} must be marked critical")
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


def load_chain(certificates: Iterable[bytes]) -> tuple[x509.Certificate, ...]:
    """DER certificates, leaf first.

    Raises:
        MalformedSignatureError: none, or one that is not a DER certificate.
    """
    try:
        chain = tuple(x509.load_der_x509_certificate(der) for der in certificates)
    except (ValueError, TypeError) as exc:
        raise MalformedSignatureError(f"certificate chain holds a bad certificate: {exc}") from exc
    if not chain:
        raise MalformedSignatureError("signature carries no certificate chain")
    return chain


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
    """JWS and COSE ECDSA signatures are r || s, each the curve's byte length (RFC 7518 §3.4,
    RFC 9053 §2.1)."""
    size = (key.curve.key_size + 7) // 8
    if len(raw) != 2 * size:
        raise UntrustedSignerError("ECDSA signature has the wrong length")
    r, s = int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")
    return encode_dss_signature(r, s)
