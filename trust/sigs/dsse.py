"""DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse v1) and in-toto statements.

A DSSE signature covers the pre-authentication encoding of the payload type and payload::

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

where LEN is the ASCII decimal byte length; the envelope is
`{"payload": b64, "payloadType": str, "signatures": [{"keyid": str, "sig": b64}]}`.
An in-toto statement (`application/vnd.in-toto+json`) names its subjects by digest.

Scope: pure parsing and verification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trust.sigs.errors import MalformedSignatureError, UntrustedSignerError
from trust.sigs.keys import VerifyingKey
from trust.sigs.verdict import b64decode, load_json_object

__all__ = [
    "IN_TOTO_PAYLOAD_TYPE",
    "Envelope",
    "Statement",
    "pae",
]

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")


def pae(payload_type: str, payload: bytes) -> bytes:
    """The bytes a DSSE signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope."""

    payload_type: str
    payload: bytes
    signatures: tuple[bytes, ...]

    @classmethod
    def from_dict(cls, document: Any) -> Envelope:
        """Parse the JSON form (as it appears in a Sigstore bundle's `dsseEnvelope`).

        Raises:
            MalformedSignatureError: missing fields or bad base64.
        """
        if not isinstance(document, dict):
            raise MalformedSignatureError("DSSE envelope is not an object")
        payload_type = document.get("payloadType")
        if not isinstance(payload_type, str):
            raise MalformedSignatureError("DSSE envelope has no payloadType")
        signatures = document.get("signatures")
        if not isinstance(signatures, list) or not signatures:
            raise MalformedSignatureError("DSSE envelope has no signatures")
        sigs = tuple(
            b64decode(s.get("sig") if isinstance(s, dict) else None, "DSSE signature")
            for s in signatures
        )
        return cls(payload_type, b64decode(document.get("payload"), "DSSE payload"), sigs)

    def verify(self, keys: Sequence[VerifyingKey]) -> VerifyingKey:
        """The trusted key that signed this envelope.

        Raises:
            UntrustedSignerError: no signature verifies under any trusted key.
        """
        message = pae(self.payload_type, self.payload)
        for key in keys:
            if any(key.verify(sig, message) for sig in self.signatures):
                return key
        raise UntrustedSignerError("DSSE envelope is not signed by any trusted key")


@dataclass(frozen=True)
class Statement:
    """An in-toto statement: what it says about which digests."""

    predicate_type: str
    subject_digests: frozenset[str]

    @classmethod
    def from_bytes(cls, payload: bytes) -> Statement:
        """Parse an in-toto statement; subjects become `sha256:<hex>` strings.

        Raises:
            MalformedSignatureError: not an in-toto statement.
        """
        document = load_json_object(payload, "in-toto statement")
        if document.get("_type") not in _STATEMENT_TYPES:
            raise MalformedSignatureError(f"not an in-toto statement: {document.get('_type')!r}")
        subjects = document.get("subject")
        predicate_type = document.get("predicateType")
        if not isinstance(subjects, list) or not isinstance(predicate_type, str):
            raise MalformedSignatureError("in-toto statement lacks subject or predicateType")
        digests = set()
        for subject in subjects:
            digest = subject.get("digest") if isinstance(subject, dict) else None
            if isinstance(digest, dict) and isinstance(digest.get("sha256"), str):
                digests.add("sha256:" + digest["sha256"].lower())
        return cls(predicate_type, frozenset(digests))
