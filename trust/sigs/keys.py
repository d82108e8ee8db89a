"""Public keys a policy trusts for key-based cosign and Sigstore signatures.

A key is given as PEM (the `cosign.pub` a team already publishes). Signatures follow what
cosign and the Sigstore clients produce for each key type:

* ECDSA: ASN.1 DER signature, hash by curve (P-256 SHA-256, P-384 SHA-384, P-521 SHA-512);
* Ed25519: the pure signature over the message itself;
* RSA: PKCS #1 v1.5 with SHA-256, keys of 2048 bits or more.

Scope: pure crypto with `cryptography`; no file or network I/O.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from trust.sigs.errors import MalformedSignatureError, UnsupportedAlgorithmError

__all__ = ["VerifyingKey", "curve_hash", "fingerprint"]

logger = logging.getLogger(__name__)

_CURVE_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}
_MIN_RSA_BITS = 2048


def curve_hash(key: ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    """The hash ECDSA signatures use with `key`'s curve.

    Raises:
        UnsupportedAlgorithmError: the curve is not P-256, P-384 or P-521.
    """
    algorithm = _CURVE_HASHES.get(key.curve.name)
    if algorithm is None:
        raise UnsupportedAlgorithmError(f"unsupported ECDSA curve {key.curve.name}")
    return algorithm()


@dataclass(frozen=True)
class VerifyingKey:
    """A trusted public key.

    Attributes:
        key: the `cryptography` public key (ECDSA, Ed25519 or RSA).
        name: how messages and verdicts name the key (its fingerprint unless given).
    """

    key: PublicKeyTypes
    name: str

    @classmethod
    def from_pem(cls, data: bytes | str, name: str | None = None) -> VerifyingKey:
        """Load a PEM public key (SubjectPublicKeyInfo).

        Raises:
            MalformedSignatureError: the bytes are not a PEM public key.
            UnsupportedAlgorithmError: a key type or size cosign keys never have.
        """
        raw = data.encode() if isinstance(data, str) else data
        try:
            key = serialization.load_pem_public_key(raw)
        except ValueError as exc:
            raise MalformedSignatureError(f"not a PEM public key: {exc}") from exc
        if isinstance(key, ec.EllipticCurvePublicKey):
            curve_hash(key)
        elif isinstance(key, rsa.RSAPublicKey):
            if key.key_size < _MIN_RSA_BITS:
                raise UnsupportedAlgorithmError(f"RSA key of {key.key_size} bits is too small")
        elif not isinstance(key, ed25519.Ed25519PublicKey):
            raise UnsupportedAlgorithmError(f"unsupported key type {type(key).__name__}")
        return cls(key, name or fingerprint(key))

    def verify(self, signature: bytes, message: bytes) -> bool:
        """Whether `signature` is this key's signature over `message`."""
        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                self.key.verify(signature, message, ec.ECDSA(curve_hash(self.key)))
            elif isinstance(self.key, ed25519.Ed25519PublicKey):
                self.key.verify(signature, message)
            elif isinstance(self.key, rsa.RSAPublicKey):
                self.key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            else:
                return False
        except InvalidSignature:
            return False
        return True

    def verify_digest(self, signature: bytes, sha256: bytes) -> bool:
        """Whether `signature` signs the message whose SHA-256 is `sha256`.

        Only ECDSA P-256 and RSA keys sign a message through its hash; Ed25519 signs the
        message itself, so a bare digest can never verify against it.
        """
        try:
            if isinstance(self.key, ec.EllipticCurvePublicKey):
                if self.key.curve.name != "secp256r1":
                    return False
                self.key.verify(signature, sha256, ec.ECDSA(Prehashed(hashes.SHA256())))
            elif isinstance(self.key, rsa.RSAPublicKey):
                self.key.verify(signature, sha256, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
            else:
                return False
        except InvalidSignature:
            return False
        return True


def fingerprint(key: PublicKeyTypes) -> str:
    """`sha256:<hex>` of the key's DER SubjectPublicKeyInfo."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256:" + hashlib.sha256(der).hexdigest()
