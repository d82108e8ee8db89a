"""Token-signing private keys sealed for the database with the hub's key-encryption secret.

A sealed key is the text `berth-sealed:v1:` followed by base64 of a 12-byte nonce and the
AES-256-GCM ciphertext of the key's PKCS#8 DER. The AES key is derived from the secret with
HKDF-SHA256 (info `berth token signing keys`, distinct from the trust keyring's, so the two
never share an AES key); the secret is random or chosen by the operator, not a password, so a
slow password KDF would add nothing but start-up time. The key id is the associated data: a
sealed key copied into another row does not open.

Rows written by earlier versions hold a plain PEM key; `is_sealed` tells them apart.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from registry.auth.tokens import SigningKey
from registry.errors import RegistryError
from registry.keysecret import SECRET_FILE, SECRET_SETTING

logger = logging.getLogger(__name__)

__all__ = ["SEALED_PREFIX", "KeySealer", "SigningKeyError", "is_sealed"]

SEALED_PREFIX = "berth-sealed:v1:"
_NONCE_BYTES = 12


class SigningKeyError(RegistryError):
    """A stored token-signing key cannot be opened (wrong key-encryption secret, or damaged)."""


def is_sealed(stored: str) -> bool:
    """Whether a stored key is sealed (else it is a plain PEM key from an earlier version)."""
    return stored.startswith(SEALED_PREFIX)


class KeySealer:
    """Seals and opens token-signing keys with one key-encryption secret.

    Args:
        secret: the hub's key-encryption secret (`registry.keysecret`).
    """

    def __init__(self, secret: bytes) -> None:
        derived = HKDF(hashes.SHA256(), 32, salt=None, info=b"berth token signing keys").derive(
            secret
        )
        self._aead = AESGCM(derived)

    def seal(self, key: SigningKey) -> str:
        """The sealed text of `key`, bound to its key id."""
        der = key.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, der, key.kid.encode())
        return SEALED_PREFIX + base64.b64encode(sealed).decode()

    def open(self, kid: str, stored: str) -> SigningKey:
        """The key stored under `kid`, sealed or (from an earlier version) plain PEM.

        Raises:
            SigningKeyError: the secret does not open it, or it is not a key with that id.
        """
        if not is_sealed(stored):
            try:
                return _checked(kid, SigningKey.from_pem(stored))
            except ValueError as exc:
                raise SigningKeyError(f"the token signing key {kid} is not a PEM key") from exc
        try:
            sealed = base64.b64decode(stored[len(SEALED_PREFIX) :], validate=True)
            der = self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], kid.encode())
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise SigningKeyError(
                f"the token signing key {kid} in the database cannot be opened with this hub's "
                f"key-encryption secret: every hub sharing the database needs the same secret "
                f"(setting {SECRET_SETTING}, else the file {SECRET_FILE} in the data directory)"
            ) from exc
        private = serialization.load_der_private_key(der, password=None)
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise SigningKeyError(f"the token signing key {kid} is not an EC key")
        return _checked(kid, SigningKey.from_private_key(private))


def _checked(kid: str, key: SigningKey) -> SigningKey:
    if key.kid != kid:
        raise SigningKeyError(f"the token signing key stored as {kid} has the id {key.kid}")
    return key
