"""Upstream passwords sealed under the hub's key-encryption secret.

The configuration file holds only the sealed text (`registry.sealedtext`), bound to the proxy
namespace's name under its own derived key, so it is never the key that seals token-signing,
trust keys or webhook secrets: a sealed password copied to another namespace does not open.
"""

from __future__ import annotations

from registry.sealedtext import SealedTextError, TextSealer

__all__ = ["CredentialSealer", "SealedCredentialError"]

_PURPOSE = b"berth proxy upstream credentials"


class SealedCredentialError(ValueError):
    """A sealed password does not open with this secret for this namespace."""


class CredentialSealer:
    """Seals and opens upstream passwords with one key-encryption secret.

    Args:
        secret: the hub's key-encryption secret.
    """

    def __init__(self, secret: bytes) -> None:
        self._sealer = TextSealer(secret, _PURPOSE)

    def seal(self, namespace: str, password: str) -> str:
        """The sealed text of `password`, bound to `namespace`."""
        return self._sealer.seal(namespace, password.encode())

    def open(self, namespace: str, sealed_text: str) -> str:
        """The password sealed for `namespace`.

        Raises:
            SealedCredentialError: another secret or namespace sealed it, or it is damaged.
        """
        try:
            return self._sealer.open(namespace, sealed_text).decode()
        except (SealedTextError, UnicodeDecodeError) as exc:
            raise SealedCredentialError(
                f"the password of proxy namespace {namespace!r} does not open with this hub's "
                "key-encryption secret (seal it again with `berth-hub proxy seal-password`)"
            ) from exc
