"""Short secrets sealed as text with the hub's key-encryption secret, each bound to a name.

The text is `berth-sealed:v1:` and base64 of a 12-byte nonce and the AES-256-GCM ciphertext.
Each use (upstream passwords, webhook secrets) derives its own AES key from the key-encryption
secret (`registry.keysecret`) with HKDF-SHA256 under its own purpose string, so no two uses
share a key. The name (a namespace) is the associated data: a text copied under another name
does not open.
"""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SEALED_PREFIX", "SealedTextError", "TextSealer", "is_sealed"]

SEALED_PREFIX = "berth-sealed:v1:"
_NONCE_BYTES = 12


class SealedTextError(ValueError):
    """The text is not sealed, or was sealed with another secret, purpose or name, or damaged."""


def is_sealed(text: str) -> bool:
    """Whether `text` looks like sealed text."""
    return text.startswith(SEALED_PREFIX)


class TextSealer:
    """Seals and opens one kind of secret with one key-encryption secret.

    Args:
        secret: the hub's key-encryption secret.
        purpose: the HKDF info string naming the kind of secret.
    """

    def __init__(self, secret: bytes, purpose: bytes) -> None:
        key = HKDF(hashes.SHA256(), 32, salt=None, info=purpose).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, name: str, plain: bytes) -> str:
        """The sealed text of `plain`, bound to `name`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, plain, name.encode())
        return SEALED_PREFIX + base64.b64encode(sealed).decode()

    def open(self, name: str, text: str) -> bytes:
        """The bytes sealed for `name`.

        Raises:
            SealedTextError: not sealed text, or it does not open for `name` with this secret.
        """
        if not is_sealed(text):
            raise SealedTextError("the text is not sealed")
        try:
            raw = base64.b64decode(text.removeprefix(SEALED_PREFIX), validate=True)
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], name.encode())
        except (binascii.Error, InvalidTag, ValueError) as exc:
            raise SealedTextError("the text does not open with this secret") from exc
