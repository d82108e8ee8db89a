"""The content-trust error family: one root, `TrustError`, and a subclass per failure.

Scope: errors raised by the pure TUF model, key handling, the key store, the signer and the
verifying client. Transport errors live beside the transport (`trust.remote`) but also derive
from `TrustError`, so callers can catch one type for "content trust failed".
"""

from __future__ import annotations

__all__ = [
    "BadHashError",
    "BadLengthError",
    "BadSignatureError",
    "BadVersionError",
    "CanonicalJSONError",
    "CertificateError",
    "CertificateExpiredError",
    "DelegationError",
    "ExpiredMetadataError",
    "KeyNotFoundError",
    "MalformedMetadataError",
    "MissingMetaError",
    "PassphraseError",
    "RepositoryNotInitializedError",
    "RollbackError",
    "SignatureError",
    "TargetNotFoundError",
    "ThresholdError",
    "TrustError",
    "UnsupportedKeyError",
]


class TrustError(Exception):
    """Root of every content-trust error."""


class CanonicalJSONError(TrustError, ValueError):
    """A value cannot be encoded as canonical JSON (for example a fractional number)."""


class MalformedMetadataError(TrustError):
    """Metadata bytes are not a well-formed Notary TUF document of the expected role."""


class SignatureError(TrustError):
    """Metadata is not signed as its role requires."""


class BadSignatureError(SignatureError):
    """A signature does not verify against the key it names."""


class ThresholdError(SignatureError):
    """Fewer valid signatures from a role's keys than the role's threshold."""


class ExpiredMetadataError(TrustError):
    """Metadata has passed its `expires` time."""


class BadVersionError(TrustError):
    """A metadata version is not the one required (for example not what the snapshot lists)."""


class RollbackError(BadVersionError):
    """A metadata version is lower than one already trusted."""


class BadHashError(TrustError):
    """Bytes do not match the hashes the referring metadata lists."""


class BadLengthError(TrustError):
    """Bytes do not have the length the referring metadata lists."""


class CertificateError(TrustError):
    """A root certificate is invalid, expired or issued for another GUN."""


class DelegationError(TrustError):
    """A delegation is invalid: bad role name, unknown parent, or a target outside its paths."""


class UnsupportedKeyError(TrustError):
    """A key type or signature method is not supported."""


class KeyNotFoundError(TrustError):
    """A private key needed for signing is not in the key store."""


class PassphraseError(TrustError):
    """A private key cannot be decrypted with the passphrase given."""


class TargetNotFoundError(TrustError):
    """No trusted role lists the requested target (tag)."""


class RepositoryNotInitializedError(TrustError):
    """The trust server has no metadata for this GUN (404 on root.json)."""


class MissingMetaError(TrustError):
    """The referring metadata (timestamp or snapshot) does not list a required role."""


class CertificateExpiredError(CertificateError):
    """A root certificate is outside its validity window."""
