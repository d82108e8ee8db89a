"""Upstream passwords sealed under the hub's key-encryption secret.

The configuration file holds only the sealed text, `berth-sealed:v1:` and base64 of a 12-byte
nonce and the AES-256-GCM ciphertext of the password. The AES key is derived from the
key-encryption secret (`registry.keysecret`) with HKDF-SHA256 under its own info string, so it
is never the key that seals token-signing or trust keys. The namespace name is the associated
data: a sealed password copied to another namespace does not open.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

logger = logging.getLogger(__name__)

__all__ = ["SEALED_PREFIX", "CredentialSealer", "SealedCredentialError", "is_sealed"]

SEALED_PREFIX = "berth-sealed:v1:"
_NONCE_BYTES = 12
_INFO = b"berth proxy upstream credentials"


class SealedCredentialError(ValueError):
    """A sealed password does not open with this secret for this namespace."""


def is_sealed(text: str) -> bool:
    """Whether `text` looks like a sealed password."""
    return text.startswith(SEALED_PREFIX)


class CredentialSealer:
    """Seals and opens upstream passwords with one key-encryption secret.

    Args:
        secret: the hub's key-encryption secret.
    """

    def __init__(self, secret: bytes) -> None:
        key = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, namespace: str, password: str) -> str:
        """The sealed text of `password`, bound to `namespace`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, password.encode(), namespace.encode())
        return SEALED_PREFIX + base64.b64encode(sealed).decode()

    def open(self, namespace: str, sealed_text: str) -> str:
        """The password sealed for `namespace`.

        Raises:
            SealedCredentialError: another secret or namespace sealed it, or it is damaged.
        """
        try:
            sealed = base64.b64decode(sealed_text.removeprefix(SEALED_PREFIX), validate=True)
            plain = self._aead.decrypt(
                sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], namespace.encode()
            )
        except (binascii.Error, ValueError, InvalidTag) as exc:
            raise SealedCredentialError(
                f"the password of proxy namespace {namespace!r} does not open with this hub's "
                "key-encryption secret (seal it again with `berth-hub proxy seal-password`)"
            ) from exc
        return plain.decode()
