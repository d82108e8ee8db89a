"""Detach keys: the key sequence that leaves an attached terminal with the container running
(pure).

Docker's syntax (`--detach-keys`, `"detachKeys"` in the client's config.json): a comma-separated
list where each item is one character or `ctrl-<c>` with `<c>` one of `a`-`z`, `@`, `[`, `\\`,
`]`, `^`, `_`; the default is `ctrl-p,ctrl-q`. As in Docker (moby's `term.ToBytes`), the
lowercase letter is required (`ctrl-P` is unknown) and an empty item is an error.
"""

from __future__ import annotations

from runtime_client.container_errors import InvalidOptionError

__all__ = ["DEFAULT_DETACH_KEYS", "DetachKeyFilter", "InvalidDetachKeysError",
           "parse_detach_keys"]

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
# `ctrl-@` is NUL, `ctrl-a`..`ctrl-z` 1..26, then ESC, FS, GS, RS, US: the C0 control codes.
_CONTROL_NAMES = "@abcdefghijklmnopqrstuvwxyz[\\]^_"


class InvalidDetachKeysError(InvalidOptionError):
    """A detach-keys specification Docker would not accept."""

    exit_code = 1


def parse_detach_keys(spec: str, wording: str = "detach") -> bytes:
    """The byte sequence of a detach-keys specification.

    Args:
        spec: e.g. `ctrl-p,ctrl-q` or `ctrl-a,a`.
        wording: `detach` (attach, run, start) or `escape` (exec), as the daemon words it.

    Raises:
        InvalidDetachKeysError: an unknown item (`Invalid detach keys (SPEC) provided`).
    """
    codes = bytearray()
    for item in spec.split(","):
        raw = item.encode()
        if len(raw) == 1:
            codes += raw
        elif item.startswith("ctrl-") and len(item) == 6 and item[5] in _CONTROL_NAMES:
            codes.append(_CONTROL_NAMES.index(item[5]))
        else:
            raise InvalidDetachKeysError(f"Invalid {wording} keys ({spec}) provided")
    return bytes(codes)


class DetachKeyFilter:
    """Watches the bytes typed into a container for the detach sequence.

    Bytes that could begin the sequence are held back; once the next byte shows they were not
    the sequence, they are passed on together with it, so a partial match reaches the
    container unchanged.
    """

    def __init__(self, keys: bytes) -> None:
        if not keys:
            raise ValueError("empty detach sequence")
        self._keys = keys
        self._held = 0  # how many bytes of `keys` were matched so far
        self.detached = False

    def feed(self, data: bytes) -> bytes:
        """The bytes to forward now; sets `detached` (and drops the rest) on a full match."""
        out = bytearray()
        for byte in data:
            if byte != self._keys[self._held]:
                out += self._keys[:self._held]  # not the sequence after all: pass them on
                self._held = 0
                if byte != self._keys[0]:
                    out.append(byte)
                    continue
            self._held += 1
            if self._held == len(self._keys):
                self.detached = True
                return bytes(out)
        return bytes(out)
