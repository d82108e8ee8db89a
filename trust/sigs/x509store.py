"""X.509 trust stores and certificate-chain checks for Notation signatures.

A trust store (Notation's `ca:<name>`) is a named set of trusted root certificates plus the
certificates the operator has revoked (by SHA-256 fingerprint): revocation is decided by the
store, offline, so removing trust takes effect with the next verification and needs no CRL or
OCSP fetch.

Chain rules (Notary Project signature specification, certificate requirements):

* the chain is ordered leaf first; each certificate is directly issued by the next;
* every issuer is a CA (basic constraints `ca=true`) and, when key usage is present, may sign
  certificates;
* the leaf is not a CA, has key usage with `digitalSignature`, and, when it has an extended key
  usage, that includes code signing;
* the last certificate is a root held by the store.

Scope: pure; the time of any validity check is a parameter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from trust.sigs.errors import (
    CertificateChainError,
    MalformedSignatureError,
    RevokedCertificateError,
    SigningTimeError,
)

__all__ = [
    "TrustStore",
    "certificate_fingerprint",
    "check_chain_validity",
    "check_revocation",
    "load_pem_certificates",
    "verify_chain",
]

logger = logging.getLogger(__name__)

_DER = Encoding.DER


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """Lowercase hex SHA-256 of the certificate's DER encoding."""
    return hashlib.sha256(certificate.public_bytes(_DER)).hexdigest()


def load_pem_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle.

    Raises:
        MalformedSignatureError: no certificate could be read.
    """
    raw = data.encode() if isinstance(data, str) else data
    try:
        certificates = x509.load_pem_x509_certificates(raw)
    except ValueError as exc:
        raise MalformedSignatureError(f"not PEM certificates: {exc}") from exc
    return certificates


@dataclass(frozen=True)
class TrustStore:
    """A named set of trusted roots and revoked certificate fingerprints.

    Attributes:
        name: as trust policies name it, `ca:<name>` (also `signingAuthority:<name>`).
        roots: the trusted root certificates.
        revoked: SHA-256 fingerprints (lowercase hex) of revoked certificates, any level.
    """

    name: str
    roots: tuple[x509.Certificate, ...]
    revoked: frozenset[str] = field(default=frozenset())

    @classmethod
    def from_pem(cls, name: str, pem: bytes | str, revoked: Iterable[str] = ()) -> TrustStore:
        """A store from a PEM bundle of roots and fingerprints to treat as revoked."""
        roots = tuple(load_pem_certificates(pem))
        return cls(name, roots, frozenset(f.lower().replace(":", "") for f in revoked))

    def holds(self, certificate: x509.Certificate) -> bool:
        """Whether `certificate` is one of this store's roots."""
        fingerprint = certificate_fingerprint(certificate)
        return any(certificate_fingerprint(root) == fingerprint for root in self.roots)


def verify_chain(chain: Sequence[x509.Certificate], stores: Sequence[TrustStore]) -> TrustStore:
    """Check the chain's structure and that it ends at a root one of `stores` holds.

    Returns:
        The store that holds the root.

    Raises:
        CertificateChainError: a broken link, a certificate rule broken, or an untrusted root.
    """
    if not chain:
        raise CertificateChainError("signature carries no certificate chain")
    _check_leaf(chain[0])
    for child, issuer in itertools.pairwise(chain):
        _check_issuer(issuer)
        try:
            child.verify_directly_issued_by(issuer)
        except (InvalidSignature, ValueError, TypeError) as exc:
            raise CertificateChainError(
                f"{child.subject.rfc4514_string()} is not issued by"
                f" {issuer.subject.rfc4514_string()}"
            ) from exc
    root = chain[-1]
    if root.issuer != root.subject:
        raise CertificateChainError("certificate chain does not end at a root certificate")
    for store in stores:
        if store.holds(root):
            return store
    raise CertificateChainError(
        f"root {root.subject.rfc4514_string()} is not in trust store(s)"
        f" {', '.join(s.name for s in stores) or '(none)'}"
    )


def check_chain_validity(chain: Sequence[x509.Certificate], at: dt.datetime) -> None:
    """Every certificate of the chain is valid at `at`.

    Raises:
        SigningTimeError: a certificate is not yet valid or has expired at `at`.
    """
    for certificate in chain:
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            raise SigningTimeError(
                f"certificate {certificate.subject.rfc4514_string()} is not valid at"
                f" {at.isoformat()} (valid {certificate.not_valid_before_utc.isoformat()}"
                f" to {certificate.not_valid_after_utc.isoformat()})"
            )


def check_revocation(chain: Sequence[x509.Certificate], store: TrustStore) -> None:
    """No certificate of the chain is revoked by `store`.

    Raises:
        RevokedCertificateError: one is.
    """
    for certificate in chain:
        if certificate_fingerprint(certificate) in store.revoked:
            raise RevokedCertificateError(
                f"certificate {certificate.subject.rfc4514_string()} is revoked"
                f" by trust store {store.name}"
            )


def _check_leaf(leaf: x509.Certificate) -> None:
    if _basic_constraints_ca(leaf):
        raise CertificateChainError("signing certificate is a CA certificate")
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise CertificateChainError("signing certificate has no key usage") from exc
    if not usage.digital_signature:
        raise CertificateChainError("signing certificate may not make digital signatures")
    try:
        extended = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CODE_SIGNING not in extended:
        raise CertificateChainError("signing certificate is not for code signing")


def _check_issuer(issuer: x509.Certificate) -> None:
    if not _basic_constraints_ca(issuer):
        raise CertificateChainError(
            f"issuer {issuer.subject.rfc4514_string()} is not a CA certificate"
        )
    try:
        usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.key_cert_sign:
        raise CertificateChainError(
            f"issuer {issuer.subject.rfc4514_string()} may not sign certificates"
        )


def _basic_constraints_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False
