"""Remote registry passwords of replication rules, sealed under the key-encryption secret.

Like the proxy's upstream passwords (`registry.proxy.credentials`), under a key of their own
and bound to the rule's name: a sealed password copied into another rule does not open.
"""

from __future__ import annotations

from registry.sealedtext import SealedTextError, TextSealer

__all__ = ["RemotePasswordError", "RemotePasswordSealer"]

_PURPOSE = b"berth replication remote credentials"


class RemotePasswordError(ValueError):
    """A sealed password does not open with this secret for this rule."""


class RemotePasswordSealer:
    """Seals and opens replication rules' remote passwords."""

    def __init__(self, secret: bytes) -> None:
        self._sealer = TextSealer(secret, _PURPOSE)

    def seal(self, rule: str, password: str) -> str:
        return self._sealer.seal(rule, password.encode())

    def open(self, rule: str, sealed_text: str) -> str:
        """The password sealed for `rule`.

        Raises:
            RemotePasswordError: another secret or rule sealed it, or it is damaged.
        """
        try:
            return self._sealer.open(rule, sealed_text).decode()
        except (SealedTextError, UnicodeDecodeError) as exc:
            raise RemotePasswordError(
                f"the remote password of replication rule {rule!r} does not open with this "
                "hub's key-encryption secret (set the rule again with its password)"
            ) from exc
