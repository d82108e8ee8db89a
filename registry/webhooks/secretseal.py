"""Webhook signing secrets sealed for the database with the hub's key-encryption secret.

A webhook's secret must be readable to sign deliveries, so it cannot be hashed like a
password; it is stored as `berth-sealed:v1:` and base64 of a 12-byte nonce and the
AES-256-GCM ciphertext of the secret's 32 bytes. The AES key is derived from the
key-encryption secret (`registry.keysecret`) with HKDF-SHA256 under its own info string, so it
is never the key of token-signing, trust or proxy credentials. The namespace is the associated
data: a sealed secret copied to another namespace's webhook does not open. A copy of the
database alone therefore cannot forge deliveries.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["WebhookSecretError", "WebhookSecretSealer", "new_secret"]

_PREFIX = "berth-sealed:v1:"
_NONCE_BYTES = 12
_SECRET_BYTES = 32
_INFO = b"berth webhook secrets"


class WebhookSecretError(ValueError):
    """A stored webhook secret does not open with this key-encryption secret."""


def new_secret() -> str:
    """A fresh signing secret, as shown to the webhook's owner (64 hex digits)."""
    return secrets.token_hex(_SECRET_BYTES)


class WebhookSecretSealer:
    """Seals and opens webhook secrets with one key-encryption secret.

    Args:
        secret: the hub's key-encryption secret.
    """

    def __init__(self, secret: bytes) -> None:
        key = HKDF(hashes.SHA256(), 32, salt=None, info=_INFO).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, namespace: str, secret: str) -> str:
        """The stored text of `secret` (from `new_secret`), bound to `namespace`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, bytes.fromhex(secret), namespace.encode())
        return _PREFIX + base64.b64encode(sealed).decode()

    def open(self, namespace: str, stored: str) -> str:
        """The secret sealed for `namespace`.

        Raises:
            WebhookSecretError: not sealed text, or sealed with another secret or namespace.
        """
        if not stored.startswith(_PREFIX):
            raise WebhookSecretError("the stored webhook secret is not sealed")
        try:
            raw = base64.b64decode(stored.removeprefix(_PREFIX), validate=True)
            opened = self._aead.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], namespace.encode()
            )
        except (binascii.Error, InvalidTag, ValueError) as exc:
            raise WebhookSecretError(
                "the webhook secret does not open with this hub's key-encryption secret"
            ) from exc
        return opened.hex()
