"""Notation signatures in COSE_Sign1 envelopes (Notary Project signature-envelope-cose).

The envelope is `COSE_Sign1_Tagged` (CBOR tag 18): `[protected bstr, unprotected map, payload
bstr, signature bstr]`. The protected header holds `alg` (label 1, a COSE algorithm number),
`crit` (label 2), the content type (label 3) and the Notation attributes by name, their times
as epoch-based date/times (CBOR tag 1); the unprotected header holds `x5chain` (label 33, DER
certificates, leaf first; it may also be protected) and optionally a signing agent and an RFC
3161 countersignature. The signature covers the CBOR `Sig_structure`
`["Signature1", protected bstr, h'', payload bstr]` (RFC 9052 §4.4).

This maps the protected header onto the names the JWS form uses and checks it with the same
rules (`trust.sigs.notation_envelope.check_signed_attributes`), so both forms are verified by
one pipeline. COSE hash envelopes (label 258) are not accepted.

Scope: pure parsing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import cbor2

from trust.sigs.errors import MalformedSignatureError, UnsupportedAlgorithmError
from trust.sigs.notation_envelope import (
    SIGNING_SCHEME,
    TIME_HEADERS,
    NotationEnvelope,
    check_signed_attributes,
    load_chain,
)
from trust.sigs.verdict import load_json_object

__all__ = ["COSE_MEDIA_TYPE", "parse_cose"]

COSE_MEDIA_TYPE = "application/cose"

_SIGN1_TAG = 18
_ALG, _CRIT, _CONTENT_TYPE, _X5CHAIN = 1, 2, 3, 33
# COSE algorithm numbers (IANA) -> the JWS names the rest of the verifier uses.
_ALGS = {-37: "PS256", -38: "PS384", -39: "PS512", -7: "ES256", -35: "ES384", -36: "ES512"}
_UNPROTECTED = {_X5CHAIN, "io.cncf.notary.signingAgent", "io.cncf.notary.timestampSignature"}


def parse_cose(data: bytes) -> NotationEnvelope:
    """Parse a Notation COSE_Sign1 envelope and check its signed attributes.

    Raises:
        MalformedSignatureError: not a COSE_Sign1_Tagged Notation envelope.
        UnsupportedAlgorithmError: an unapproved `alg`, or a critical header not understood.
    """
    envelope = _loads(data, "COSE envelope")
    if not isinstance(envelope, cbor2.CBORTag) or envelope.tag != _SIGN1_TAG:
        raise MalformedSignatureError("not a COSE_Sign1_Tagged envelope")
    # cbor2 may decode what sits inside a tag as immutable (tuples, frozen maps).
    parts = envelope.value
    if (
        not isinstance(parts, list | tuple)
        or len(parts) != 4
        or not isinstance(parts[0], bytes)
        or not isinstance(parts[1], Mapping)
        or not isinstance(parts[2], bytes)
        or not isinstance(parts[3], bytes)
    ):
        raise MalformedSignatureError("COSE_Sign1 must be [protected, unprotected, payload, sig]")
    protected_bytes, unprotected, payload, signature = parts
    protected = _loads(protected_bytes, "COSE protected header")
    if not isinstance(protected, Mapping):
        raise MalformedSignatureError("COSE protected header is not a map")
    if set(unprotected) - _UNPROTECTED:
        raise MalformedSignatureError("COSE unprotected header has unknown parameters")
    attributes = _as_jws_names(protected)
    check_signed_attributes(attributes)
    chain = protected.get(_X5CHAIN, unprotected.get(_X5CHAIN))
    if isinstance(chain, bytes):
        chain = [chain]
    if not isinstance(chain, list | tuple) or not all(isinstance(c, bytes) for c in chain):
        raise MalformedSignatureError("COSE envelope has no x5chain of DER certificates")
    return NotationEnvelope(
        format="cose",
        alg=attributes["alg"],
        scheme=attributes[SIGNING_SCHEME],
        times={name: _time(attributes[name], name) for name in TIME_HEADERS if name in attributes},
        signing_input=cbor2.dumps(["Signature1", protected_bytes, b"", payload]),
        signature=signature,
        payload=load_json_object(payload, "COSE payload"),
        chain=load_chain(chain),
    )


def _as_jws_names(protected: Mapping[Any, Any]) -> dict[str, Any]:
    """The protected header under the JWS names (`alg`, `crit`, `cty`, attribute names)."""
    if 258 in protected:
        raise UnsupportedAlgorithmError("COSE hash envelopes are not accepted")
    alg = protected.get(_ALG)
    if alg not in _ALGS:
        raise UnsupportedAlgorithmError(f"COSE alg {alg!r} is not an approved algorithm")
    crit = protected.get(_CRIT)
    if not isinstance(crit, list | tuple):
        raise MalformedSignatureError("COSE crit must be a list")
    if any(isinstance(label, int) and 0 <= label <= 8 for label in crit):
        raise MalformedSignatureError("COSE crit may not list labels 0 to 8")
    named = {key: value for key, value in protected.items() if isinstance(key, str)}
    # An integer label (other than x5chain) listed as critical is not understood here.
    crit_names = [str(label) if isinstance(label, int) else label for label in crit]
    return {**named, "alg": _ALGS[alg], "crit": crit_names, "cty": protected.get(_CONTENT_TYPE)}


def _time(value: Any, name: str) -> dt.datetime:
    # cbor2 turns tag 1 (epoch-based date/time, RFC 8949 §3.4.2) into an aware datetime.
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise MalformedSignatureError(f"{name} is not an epoch-based date/time")
    return value.astimezone(dt.UTC)


def _loads(data: bytes, what: str) -> Any:
    try:
        return cbor2.loads(data)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError) as exc:
        raise MalformedSignatureError(f"{what} is not CBOR: {exc}") from exc
