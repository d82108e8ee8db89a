"""Keyless Sigstore bundles: a Fulcio certificate and a Rekor entry, checked offline.

A keyless bundle carries the short-lived signing certificate Fulcio issued for an OIDC identity
(`verificationMaterial.certificate`, or the first of `x509CertificateChain`) and the Rekor
transparency-log entry of the signature (`tlogEntries`). With the trust root given to the hub
(Fulcio CA certificates, Rekor public keys, the expected issuer and subject), it counts when:

* the certificate chains to a trusted Fulcio root through the given CA certificates, and every
  certificate was valid at the entry's integrated time;
* the certificate's OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or the older .1.1) and its
  subject alternative name (email or URI) are one of the trusted identities;
* the log entry's signed entry timestamp (`inclusionPromise`) verifies under a trusted Rekor key
  over the canonical JSON `{"body", "integratedTime", "logID", "logIndex"}`, and its body (a
  `hashedrekord`, `dsse` or `intoto` entry) records this very signature, digest and
  certificate;
* an inclusion proof, when present, leads from the entry to the root its checkpoint names
  (RFC 9162 §2.1.3.2), and the checkpoint is signed by the same log.

The integrated time is the signing time, so it must come from the signed entry timestamp; a
bundle with only an inclusion proof (which would need an RFC 3161 timestamp) is refused.
Nothing here fetches anything.

Scope: pure; the caller verifies the signature itself with `signing_key`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from trust.sigs.errors import (
    CertificateChainError,
    IdentityMismatchError,
    MalformedSignatureError,
    UntrustedSignerError,
)
from trust.sigs.keys import VerifyingKey
from trust.sigs.verdict import b64decode
from trust.sigs.x509store import check_chain_validity

__all__ = [
    "KeylessIdentity",
    "KeylessTrust",
    "LogEntryClaim",
    "certificate_identity",
    "merkle_root",
    "signing_certificate",
    "verify_cosign_keyless",
    "verify_keyless",
]

logger = logging.getLogger(__name__)

OIDC_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
OIDC_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_CLOCK_SKEW = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class KeylessIdentity:
    """An OIDC issuer and the subject (email or URI) it vouched for: each given exactly, or
    as a regular expression that must match somewhere in it (as cosign's
    `--certificate-identity-regexp` and `--certificate-oidc-issuer-regexp` do)."""

    issuer: str | re.Pattern[str]
    subject: str | re.Pattern[str]

    def matches(self, issuer: str | None, subjects: Sequence[str]) -> bool:
        """Whether a certificate from `issuer` naming `subjects` is this identity's."""
        return issuer is not None and _matches(self.issuer, issuer) and any(
            _matches(self.subject, subject) for subject in subjects
        )


def _matches(expected: str | re.Pattern[str], value: str) -> bool:
    return expected == value if isinstance(expected, str) else expected.search(value) is not None


@dataclass(frozen=True)
class KeylessTrust:
    """The trust root for keyless signatures.

    Attributes:
        certificates: Fulcio roots and intermediates; a chain must end at a self-signed one.
        log_keys: Rekor public keys; an entry's log ID is the SHA-256 of its key's DER.
        identities: who may sign.
    """

    certificates: tuple[x509.Certificate, ...]
    log_keys: tuple[VerifyingKey, ...]
    identities: tuple[KeylessIdentity, ...]

    def log_key(self, log_id: bytes) -> VerifyingKey | None:
        """The trusted Rekor key whose ID is `log_id`."""
        for key in self.log_keys:
            der = key.key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            if hashlib.sha256(der).digest() == log_id:
                return key
        return None


@dataclass(frozen=True)
class LogEntryClaim:
    """What the log entry's body must record for this bundle.

    Attributes:
        signature: the signature bytes of the bundle.
        message_digest: the SHA-256 a `hashedrekord` entry records (message signatures).
        dsse_payload: the DSSE payload whose hash a `dsse` entry records.
    """

    signature: bytes
    message_digest: bytes | None = None
    dsse_payload: bytes | None = None


def signing_certificate(material: dict[str, Any]) -> x509.Certificate:
    """The leaf certificate of a bundle's verification material.

    Raises:
        MalformedSignatureError: no certificate, or not DER.
    """
    raw = None
    if isinstance(material.get("certificate"), dict):
        raw = material["certificate"].get("rawBytes")
    chain = material.get("x509CertificateChain")
    if raw is None and isinstance(chain, dict) and chain.get("certificates"):
        first = chain["certificates"][0]
        raw = first.get("rawBytes") if isinstance(first, dict) else None
    try:
        return x509.load_der_x509_certificate(b64decode(raw, "bundle certificate"))
    except ValueError as exc:
        raise MalformedSignatureError(f"bundle certificate is not DER: {exc}") from exc


def certificate_identity(certificate: x509.Certificate) -> tuple[str | None, list[str]]:
    """The OIDC issuer and the subject alternative names (emails and URIs) of a certificate."""
    issuer = None
    for extension in certificate.extensions:
        if extension.oid == OIDC_ISSUER_V2 and isinstance(
            extension.value, x509.UnrecognizedExtension
        ):
            issuer = _der_utf8(extension.value.value)
        elif extension.oid == OIDC_ISSUER_V1 and issuer is None:
            value = extension.value
            if isinstance(value, x509.UnrecognizedExtension):
                issuer = value.value.decode("utf-8", "replace")
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        subjects = [
            *names.get_values_for_type(x509.RFC822Name),
            *names.get_values_for_type(x509.UniformResourceIdentifier),
        ]
    except x509.ExtensionNotFound:
        subjects = []
    return issuer, subjects


def verify_keyless(
    material: dict[str, Any],
    claim: LogEntryClaim,
    trust: KeylessTrust,
    now: dt.datetime | None = None,
) -> tuple[VerifyingKey, dt.datetime]:
    """Check a keyless bundle's certificate, identity and log entry.

    Args:
        material: the bundle's `verificationMaterial`.
        claim: what its log entry must record.
        trust: the Fulcio and Rekor trust root and the trusted identities.
        now: when given, an entry integrated later than this (beyond a minute's clock skew)
            is refused.

    Returns:
        The certificate's key (to verify the bundle's signature with) and the signing time.

    Raises:
        MalformedSignatureError: missing or malformed material.
        CertificateChainError: the certificate does not chain to a trusted Fulcio root.
        SigningTimeError: the chain was not valid at the signing time.
        IdentityMismatchError: the issuer or subject is not trusted.
        UntrustedSignerError: no log entry verifies, or it records another signature.
    """
    entries = material.get("tlogEntries")
    if not isinstance(entries, list) or not entries:
        raise UntrustedSignerError("keyless bundle has no transparency log entry")
    return _verify(signing_certificate(material), entries, _verify_entry, claim, trust, now)


def verify_cosign_keyless(
    certificate_pem: str,
    rekor_bundle: str,
    claim: LogEntryClaim,
    trust: KeylessTrust,
    now: dt.datetime | None = None,
) -> tuple[VerifyingKey, dt.datetime]:
    """Check a keyless signature in cosign's tag scheme (cosign v1 and v2 layer annotations).

    The layer carries the certificate (`dev.sigstore.cosign/certificate`, PEM) and the log
    entry (`dev.sigstore.cosign/bundle`: `{"SignedEntryTimestamp": b64, "Payload": {"body",
    "integratedTime", "logIndex", "logID"}}`); intermediates come from the trust root only.

    Raises:
        As `verify_keyless`.
    """
    try:
        leaf = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        raise MalformedSignatureError(f"cosign certificate is not PEM: {exc}") from exc
    try:
        entry = json.loads(rekor_bundle)
    except ValueError as exc:
        raise MalformedSignatureError("cosign bundle annotation is not JSON") from exc
    return _verify(leaf, [entry], _verify_cosign_entry, claim, trust, now)


def _verify(
    leaf: x509.Certificate,
    entries: Sequence[Any],
    check_entry: Callable[[Any, LogEntryClaim, x509.Certificate, KeylessTrust], dt.datetime],
    claim: LogEntryClaim,
    trust: KeylessTrust,
    now: dt.datetime | None,
) -> tuple[VerifyingKey, dt.datetime]:
    chain = _build_chain(leaf, trust.certificates)
    issuer, subjects = certificate_identity(leaf)
    if not any(identity.matches(issuer, subjects) for identity in trust.identities):
        raise IdentityMismatchError(
            f"keyless signature by {', '.join(subjects) or '(no subject)'} from issuer"
            f" {issuer!r} is not a trusted identity"
        )
    errors = []
    for entry in entries:
        try:
            signed_at = check_entry(entry, claim, leaf, trust)
            if now is not None and signed_at > now + _CLOCK_SKEW:
                raise UntrustedSignerError(f"log entry is integrated in the future ({signed_at})")
        except (MalformedSignatureError, UntrustedSignerError) as exc:
            errors.append(str(exc))
            continue
        check_chain_validity(chain, signed_at)
        name = f"{subjects[0] if subjects else '?'} ({issuer})"
        return VerifyingKey(leaf.public_key(), name), signed_at
    raise UntrustedSignerError("no verified transparency log entry: " + "; ".join(errors))


def merkle_root(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]) -> bytes:
    """The tree root an inclusion proof leads to (RFC 9162 §2.1.3.2).

    Raises:
        UntrustedSignerError: the proof does not fit the index and tree size.
    """
    if index < 0 or index >= size:
        raise UntrustedSignerError("inclusion proof index is outside the tree")
    fn, sn, node = index, size - 1, leaf_hash
    for sibling in proof:
        if sn == 0:
            raise UntrustedSignerError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            node = hashlib.sha256(b"\x01" + sibling + node).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            node = hashlib.sha256(b"\x01" + node + sibling).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise UntrustedSignerError("inclusion proof is too short")
    return node


def _verify_entry(
    entry: Any, claim: LogEntryClaim, leaf: x509.Certificate, trust: KeylessTrust
) -> dt.datetime:
    if not isinstance(entry, dict):
        raise MalformedSignatureError("transparency log entry is not an object")
    body_b64 = entry.get("canonicalizedBody")
    body = b64decode(body_b64, "log entry body")
    log_id = b64decode((entry.get("logId") or {}).get("keyId"), "log ID")
    key = trust.log_key(log_id)
    if key is None:
        raise UntrustedSignerError("log entry is from a log that is not trusted")
    try:
        index, integrated = int(entry["logIndex"]), int(entry["integratedTime"])
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedSignatureError("log entry lacks logIndex or integratedTime") from exc
    _check_body(body, claim, leaf)
    promise = (entry.get("inclusionPromise") or {}).get("signedEntryTimestamp")
    _check_set(key, promise, body_b64, integrated, log_id, index)
    if entry.get("inclusionProof") is not None:
        _check_inclusion(entry["inclusionProof"], body, key)
    return dt.datetime.fromtimestamp(integrated, dt.UTC)


def _verify_cosign_entry(
    entry: Any, claim: LogEntryClaim, leaf: x509.Certificate, trust: KeylessTrust
) -> dt.datetime:
    """The log entry of cosign's `dev.sigstore.cosign/bundle` annotation."""
    try:
        payload = entry["Payload"]
        body_b64 = payload["body"]
        integrated, index = int(payload["integratedTime"]), int(payload["logIndex"])
        log_id = bytes.fromhex(payload["logID"])
        promise = entry["SignedEntryTimestamp"]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedSignatureError("cosign bundle annotation is malformed") from exc
    key = trust.log_key(log_id)
    if key is None:
        raise UntrustedSignerError("log entry is from a log that is not trusted")
    _check_body(b64decode(body_b64, "log entry body"), claim, leaf)
    _check_set(key, promise, body_b64, integrated, log_id, index)
    return dt.datetime.fromtimestamp(integrated, dt.UTC)


def _check_set(
    key: VerifyingKey, promise: Any, body_b64: str, integrated: int, log_id: bytes, index: int
) -> None:
    """Rekor's signed entry timestamp: its key's signature over the canonical entry summary."""
    if promise is None:
        raise UntrustedSignerError("log entry has no signed entry timestamp")
    payload = json.dumps(
        {"body": body_b64, "integratedTime": integrated, "logID": log_id.hex(), "logIndex": index},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    if not key.verify(b64decode(promise, "signed entry timestamp"), payload):
        raise UntrustedSignerError("signed entry timestamp does not verify")


def _check_body(body: bytes, claim: LogEntryClaim, leaf: x509.Certificate) -> None:
    """The entry records this signature by this certificate over this digest or payload.

    Rekor's `hashedrekord` (message signatures), `dsse` and `intoto` v0.0.2 (DSSE envelopes;
    the latter stores signatures base64-encoded twice) entry bodies are understood.
    """
    try:
        document = json.loads(body)
        kind, spec = document["kind"], document["spec"]
        if kind == "hashedrekord":
            recorded = [(spec["signature"]["content"], spec["signature"]["publicKey"]["content"])]
            signatures = [(b64decode(sig, "recorded signature"), key) for sig, key in recorded]
            digest_ok = claim.message_digest is not None and (
                spec["data"]["hash"]["value"] == claim.message_digest.hex()
            )
        elif kind == "dsse":
            signatures = [
                (b64decode(s["signature"], "recorded signature"), s["verifier"])
                for s in spec["signatures"]
            ]
            digest_ok = _payload_hash_is(spec["payloadHash"], claim.dsse_payload)
        elif kind == "intoto":
            content = spec["content"]
            signatures = [
                (
                    b64decode(b64decode(s["sig"], "recorded signature").decode(), "signature"),
                    s["publicKey"],
                )
                for s in content["envelope"]["signatures"]
            ]
            digest_ok = _payload_hash_is(content["payloadHash"], claim.dsse_payload)
        else:
            raise MalformedSignatureError(f"log entry kind {kind!r} is not supported")
    except (KeyError, TypeError, ValueError, UnicodeDecodeError) as exc:
        raise MalformedSignatureError("log entry body is malformed") from exc
    leaf_der = leaf.public_bytes(serialization.Encoding.DER)
    for signature, verifier in signatures:
        if signature != claim.signature:
            continue
        try:
            recorded_cert = x509.load_pem_x509_certificate(b64decode(verifier, "verifier"))
        except ValueError:
            continue
        if recorded_cert.public_bytes(serialization.Encoding.DER) == leaf_der and digest_ok:
            return
    raise UntrustedSignerError("log entry records another signature, digest or certificate")


def _payload_hash_is(recorded: Any, payload: bytes | None) -> bool:
    return (
        payload is not None
        and recorded["algorithm"] == "sha256"
        and recorded["value"] == hashlib.sha256(payload).hexdigest()
    )


def _check_inclusion(proof: Any, body: bytes, key: VerifyingKey) -> None:
    try:
        index, size = int(proof["logIndex"]), int(proof["treeSize"])
        root = b64decode(proof["rootHash"], "root hash")
        hashes = [b64decode(h, "proof hash") for h in proof.get("hashes", [])]
        note = proof["checkpoint"]["envelope"]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedSignatureError("inclusion proof is malformed") from exc
    leaf_hash = hashlib.sha256(b"\x00" + body).digest()
    if merkle_root(index, size, leaf_hash, hashes) != root:
        raise UntrustedSignerError("inclusion proof does not lead to its root hash")
    text, sep, signatures = note.partition("\n\n")
    lines = text.split("\n")
    if not sep or len(lines) < 3 or lines[1] != str(size) or b64decode(lines[2], "root") != root:
        raise UntrustedSignerError("checkpoint does not name the proof's tree")
    signed = (text + "\n").encode()
    for line in signatures.splitlines():
        raw = b64decode(line.rsplit(" ", 1)[-1], "checkpoint signature")
        if len(raw) > 4 and key.verify(raw[4:], signed):
            return
    raise UntrustedSignerError("checkpoint is not signed by the log")


def _build_chain(
    leaf: x509.Certificate, certificates: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    chain = [leaf]
    current = leaf
    for _ in range(len(certificates) + 1):
        if current.issuer == current.subject and current is not leaf:
            return chain
        issuer = next((c for c in certificates if _issued(current, c)), None)
        if issuer is None:
            raise CertificateChainError(
                "signing certificate does not chain to a trusted Fulcio root"
            )
        chain.append(issuer)
        if issuer.issuer == issuer.subject:
            return chain
        current = issuer
    raise CertificateChainError("certificate chain is too long")


def _issued(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    if child.issuer != issuer.subject:
        return False
    try:
        child.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _der_utf8(value: bytes) -> str | None:
    """Decode a DER UTF8String (tag 12) of short or long form length."""
    if len(value) < 2 or value[0] != 0x0C:
        return None
    length, offset = value[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(value[2 : 2 + count], "big"), 2 + count
    return value[offset : offset + length].decode("utf-8", "replace")
