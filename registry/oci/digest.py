"""Content digests (OCI image-spec "Digests"): parsing, validation and streaming hashing."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["ALGORITHMS", "Digest", "DigestError", "Digester"]

# Registered algorithms and the length of their hex encoding (image-spec descriptor.md).
ALGORITHMS: dict[str, int] = {"sha256": 64, "sha512": 128}

_DIGEST_RE = re.compile(r"([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)")
_LOWER_HEX = re.compile(r"[a-f0-9]+")


class DigestError(ValueError):
    """A string is not a valid digest, or uses an unsupported algorithm."""


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """An `algorithm:hex` content identifier."""

    algorithm: str
    hex: str

    @classmethod
    def parse(cls, value: str) -> Digest:
        """Parse and validate a digest string.

        Raises:
            DigestError: malformed, unsupported algorithm, or wrong hex length.
        """
        match = _DIGEST_RE.fullmatch(value)
        if match is None:
            raise DigestError(f"invalid digest {value!r}")
        algorithm, encoded = match.groups()
        length = ALGORITHMS.get(algorithm)
        if length is None:
            raise DigestError(f"unsupported digest algorithm {algorithm!r}")
        if len(encoded) != length or not _LOWER_HEX.fullmatch(encoded):
            raise DigestError(f"invalid {algorithm} digest {value!r}")
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of `data`."""
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    def verify(self, data: bytes) -> bool:
        """True when `data` hashes to this digest."""
        return hashlib.new(self.algorithm, data).hexdigest() == self.hex


class Digester:
    """Incremental hashing of a stream, for one algorithm."""

    __slots__ = ("_hash", "algorithm", "size")

    def __init__(self, algorithm: str = "sha256") -> None:
        if algorithm not in ALGORITHMS:
            raise DigestError(f"unsupported digest algorithm {algorithm!r}")
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    def digest(self) -> Digest:
        return Digest(self.algorithm, self._hash.hexdigest())

    def copy(self) -> Digester:
        clone = Digester.__new__(Digester)
        clone.algorithm = self.algorithm
        clone._hash = self._hash.copy()
        clone.size = self.size
        return clone
