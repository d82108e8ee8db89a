"""Sealing the server-held private keys at rest with the key-encryption secret.

A sealed key is a 12-byte nonce followed by the AES-256-GCM ciphertext of the key's PKCS#8
DER. The AES key is derived from the secret with HKDF-SHA256 (info `berth trust server keys`);
the GUN, role and key ID are the associated data, so a sealed key copied into another GUN or
role does not open.

Scope: bytes in, bytes out; no storage.
"""

from __future__ import annotations

import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from trust.tuf.errors import TrustError
from trust.tuf.keys import PrivateKey

__all__ = ["KeySealError", "ServerKeySealer"]

logger = logging.getLogger(__name__)

_NONCE_BYTES = 12


class KeySealError(TrustError):
    """A sealed server key does not open with this secret (another secret sealed it, or damage)."""


class ServerKeySealer:
    """Seals and opens server-held keys with one key-encryption secret.

    Args:
        secret: the key-encryption secret (every hub sharing a database has the same one).
    """

    def __init__(self, secret: bytes) -> None:
        derived = HKDF(hashes.SHA256(), 32, salt=None, info=b"berth trust server keys").derive(
            secret
        )
        self._aead = AESGCM(derived)

    def seal(self, gun: str, role: str, key_id: str, key: PrivateKey) -> bytes:
        """The sealed bytes of `key`, bound to (gun, role, key_id)."""
        der = key.crypto_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, der, _aad(gun, role, key_id))

    def open(self, gun: str, role: str, key_id: str, sealed: bytes) -> PrivateKey:
        """The key sealed in `sealed` for (gun, role, key_id).

        Raises:
            KeySealError: this secret did not seal it (or the bytes are damaged).
        """
        try:
            der = self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], _aad(gun, role, key_id)
            )
        except (InvalidTag, ValueError) as exc:
            raise KeySealError(
                f"the server {role} key {key_id} of {gun} cannot be opened with this "
                "key-encryption secret"
            ) from exc
        return PrivateKey(serialization.load_der_private_key(der, None))


def _aad(gun: str, role: str, key_id: str) -> bytes:
    return f"{gun}\0{role}\0{key_id}".encode()
