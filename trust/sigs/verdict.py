"""What a verifier returns when a signature counts, and the small parsing helpers they share.

Scope: values and pure helpers only.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trust.sigs.errors import (
    DigestMismatchError,
    IdentityMismatchError,
    MalformedSignatureError,
    SignatureVerificationError,
)

__all__ = [
    "COSIGN",
    "DCT",
    "FORMATS",
    "NOTATION",
    "Verdict",
    "b64decode",
    "b64url_decode",
    "check_blob",
    "check_digest",
    "closest",
    "load_json_object",
]

DCT = "dct"
COSIGN = "cosign"
NOTATION = "notation"
FORMATS = (DCT, COSIGN, NOTATION)

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Verdict:
    """A signature that verified.

    Attributes:
        format: `cosign` (tag scheme or Sigstore bundle) or `notation`.
        digest: the manifest digest the signature covers.
        signer: the trusted key or certificate subject that verified it.
        layout: where it came from (`sig-tag`, `bundle`, `jws`).
        signed_at: the signing time the signature claims, when it has one.
        notes: validations that failed but were only logged by the verification level.
    """

    format: str
    digest: str
    signer: str
    layout: str
    signed_at: dt.datetime | None = None
    notes: tuple[str, ...] = field(default=())


def check_digest(digest: str) -> str:
    """Return `digest` when it is `sha256:<64 lowercase hex>`.

    Raises:
        MalformedSignatureError: any other form.
    """
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise MalformedSignatureError(f"not a sha256 digest: {digest!r}")
    return digest


def check_blob(data: bytes, digest: str) -> bytes:
    """Return `data` when its SHA-256 is `digest` (blobs handed in by the caller).

    Raises:
        MalformedSignatureError: the bytes are not the blob the manifest names.
    """
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        raise MalformedSignatureError(f"blob does not match its digest {digest}")
    return data


def load_json_object(data: bytes | str, what: str) -> dict[str, Any]:
    """Parse a JSON object.

    Raises:
        MalformedSignatureError: not JSON, or not an object.
    """
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedSignatureError(f"{what} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedSignatureError(f"{what} is not a JSON object")
    return value


def b64decode(value: Any, what: str) -> bytes:
    """Decode standard base64 (padding required).

    Raises:
        MalformedSignatureError: not a base64 string.
    """
    if not isinstance(value, str):
        raise MalformedSignatureError(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignatureError(f"{what} is not base64: {exc}") from exc


def b64url_decode(value: Any, what: str) -> bytes:
    """Decode unpadded base64url (RFC 7515 §2).

    Raises:
        MalformedSignatureError: not a base64url string, or padded.
    """
    if not isinstance(value, str) or "=" in value or not re.fullmatch(r"[A-Za-z0-9_-]*", value):
        raise MalformedSignatureError(f"{what} is not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedSignatureError(f"{what} is not base64url: {exc}") from exc


def closest(errors: Sequence[SignatureVerificationError]) -> SignatureVerificationError:
    """Of several failures, the one that says most (a valid signature's mismatch first)."""
    for kind in (DigestMismatchError, IdentityMismatchError):
        for error in errors:
            if isinstance(error, kind):
                return error
    return next((e for e in errors if not isinstance(e, MalformedSignatureError)), errors[0])
