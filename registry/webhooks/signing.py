"""The signature of a webhook delivery: HMAC-SHA256 over `timestamp + "." + body`.

Header: `Berth-Signature: t=<unix seconds>,v1=<hex digest>`. A receiver recomputes the digest
with the webhook's secret over the timestamp, a dot and the raw body, compares in constant
time, and refuses a timestamp further than its tolerance from its own clock (a replay of an old
delivery); remembering the `Berth-Delivery` ids seen within the tolerance refuses a replay
inside it too. Pure: "now" is a parameter.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "SignatureError",
    "sign",
    "signature_header",
    "verify",
]

SIGNATURE_HEADER = "Berth-Signature"
DEFAULT_TOLERANCE = 300  # seconds a receiver accepts between the signed time and its clock


class SignatureError(ValueError):
    """A delivery's signature is missing, malformed, wrong or too old."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `timestamp.body` under `secret`."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The `Berth-Signature` value for a delivery sent at `timestamp`."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, now: int, tolerance: int = DEFAULT_TOLERANCE
) -> int:
    """Check a `Berth-Signature` header; the signed timestamp when it holds.

    Raises:
        SignatureError: malformed, no `v1` signature matches, or the timestamp is outside
            `tolerance` seconds of `now`.
    """
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError) as exc:
        raise SignatureError("no timestamp in the signature header") from exc
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise SignatureError("signature does not match")
    if abs(now - timestamp) > tolerance:
        raise SignatureError("signature timestamp outside the tolerance")
    return timestamp
