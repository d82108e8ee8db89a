"""Errors of the signature-format verifiers and of the signature policy.

Every verification error derives from `SignatureVerificationError`, itself a `TrustError`, so
a caller can catch one type for "this signature does not count"; `SigningKeyError` is the
signer's. Each names what failed in its message,
which the hub shows to a refused client.
"""

from __future__ import annotations

from trust.tuf.errors import TrustError

__all__ = [
    "CertificateChainError",
    "DigestMismatchError",
    "IdentityMismatchError",
    "MalformedSignatureError",
    "RevokedCertificateError",
    "SignatureExpiredError",
    "SignatureVerificationError",
    "SigningKeyError",
    "SigningTimeError",
    "TrustPolicyError",
    "UnsupportedAlgorithmError",
    "UntrustedSignerError",
]


class SignatureVerificationError(TrustError):
    """Root of every error raised while verifying a cosign, Sigstore or Notation signature."""


class MalformedSignatureError(SignatureVerificationError):
    """Signature bytes are not a well-formed envelope, payload or artifact of their format."""


class UnsupportedAlgorithmError(SignatureVerificationError):
    """A signature names an algorithm or key type this verifier refuses."""


class UntrustedSignerError(SignatureVerificationError):
    """No trusted key or certificate verifies the signature (tampered, or signed by another)."""


class DigestMismatchError(SignatureVerificationError):
    """A valid signature names a different artifact than the one being checked."""


class IdentityMismatchError(SignatureVerificationError):
    """A valid signature's claimed identity, annotations or certificate subject do not match."""


class CertificateChainError(SignatureVerificationError):
    """A certificate chain does not lead to a trusted root or breaks a certificate rule."""


class SigningTimeError(CertificateChainError):
    """The certificate chain was not valid at the (authentic or current) signing time."""


class RevokedCertificateError(CertificateChainError):
    """A certificate in the chain is revoked by the trust store."""


class SignatureExpiredError(SignatureVerificationError):
    """The signature's own expiry time has passed."""


class TrustPolicyError(SignatureVerificationError):
    """A trust policy document is malformed or names what it cannot use."""


class SigningKeyError(TrustError):
    """A signing key or certificate does not load, or cannot make a signature of the format."""
