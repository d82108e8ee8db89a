"""The `MetaStore` contract (after notary's `server/storage/interface.go`).

Metadata rows are (gun, role, version) -> exact bytes, addressable as the current (highest)
version, by version, or by sha256/sha512 hex of the bytes. `update_many` is atomic and
refuses any version not above the stored current one (`OldVersionError`), which is also what
resolves races between hub replicas. Timestamp updates and deletions feed the change feed.
Server-held key pairs (private part encrypted by the caller) live here too, so every hub
replica signs with the same keys.

Scope: the Protocol and its value types; implementations are `memory.py` and `sql.py`, and
`tests/contracts/test_trust_metastore.py` is the suite both pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Change", "MetaStore", "MetaUpdate", "StoredKey", "StoredMeta"]


@dataclass(frozen=True, slots=True)
class MetaUpdate:
    """One role document to store."""

    role: str
    version: int
    data: bytes


@dataclass(frozen=True, slots=True)
class StoredMeta:
    """A stored document with its hashes and creation time."""

    role: str
    version: int
    data: bytes
    sha256: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Change:
    """A change-feed record: a new timestamp ("update") or a deletion ("deletion")."""

    id: int
    created_at: dt.datetime
    gun: str
    version: int
    sha256: str
    category: str


@dataclass(frozen=True, slots=True)
class StoredKey:
    """A server-held key pair; `encrypted_private` is sealed by the key-encryption secret."""

    gun: str
    role: str
    key_id: str
    keytype: str
    public: bytes
    encrypted_private: bytes
    created_at: dt.datetime


class MetaStore(Protocol):
    """Storage for trust metadata, the change feed and server-held keys."""

    async def get_current(self, gun: str, role: str) -> StoredMeta | None:
        """The highest version of `role`, or None."""
        ...

    async def get_all_current(self, gun: str) -> dict[str, StoredMeta]:
        """The current document of every role of `gun`."""
        ...

    async def get_checksum(self, gun: str, role: str, checksum: str) -> StoredMeta | None:
        """The document of `role` whose sha256 (64 hex) or sha512 (128 hex) is `checksum`."""
        ...

    async def get_version(self, gun: str, role: str, version: int) -> StoredMeta | None:
        """The document of `role` at `version`, or None."""
        ...

    async def update_many(self, gun: str, updates: Sequence[MetaUpdate]) -> None:
        """Store all updates or none.

        Raises:
            OldVersionError: some version is not above that role's current version.
        """
        ...

    async def delete(self, gun: str) -> None:
        """Remove every document of `gun` (keys stay) and record a deletion change."""
        ...

    async def get_changes(self, change_id: int, records: int, gun: str | None) -> list[Change]:
        """Changes after `change_id` (0 = from the start, -1 = from the end), oldest first.

        A negative `records` returns that many changes *before* `change_id` instead.
        """
        ...

    async def add_key(self, key: StoredKey) -> None:
        """Store a new server-held key pair."""
        ...

    async def get_keys(self, gun: str, role: str) -> list[StoredKey]:
        """Every key pair held for (gun, role), oldest first."""
        ...
