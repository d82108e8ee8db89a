"""An in-memory `MetaStore` (tests and single-process development)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Sequence

from trust.server.errors import OldVersionError
from trust.server.store.base import Change, MetaUpdate, StoredKey, StoredMeta

__all__ = ["MemoryMetaStore"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MemoryMetaStore:
    """`MetaStore` in dictionaries, guarded by one lock."""

    def __init__(self) -> None:
        """Start empty."""
        self._meta: dict[tuple[str, str], dict[int, StoredMeta]] = {}
        self._sha512: dict[str, str] = {}  # sha512 hex -> sha256 hex
        self._by_sha256: dict[tuple[str, str, str], StoredMeta] = {}
        self._changes: list[Change] = []
        self._keys: dict[tuple[str, str], list[StoredKey]] = {}
        self._lock = asyncio.Lock()

    async def get_current(self, gun: str, role: str) -> StoredMeta | None:
        """See `MetaStore.get_current`."""
        versions = self._meta.get((gun, role))
        return versions[max(versions)] if versions else None

    async def get_all_current(self, gun: str) -> dict[str, StoredMeta]:
        """See `MetaStore.get_all_current`."""
        return {
            role: versions[max(versions)]
            for (owner, role), versions in self._meta.items()
            if owner == gun and versions
        }

    async def get_checksum(self, gun: str, role: str, checksum: str) -> StoredMeta | None:
        """See `MetaStore.get_checksum`."""
        checksum = self._sha512.get(checksum.lower(), checksum.lower())
        return self._by_sha256.get((gun, role, checksum))

    async def get_version(self, gun: str, role: str, version: int) -> StoredMeta | None:
        """See `MetaStore.get_version`."""
        return self._meta.get((gun, role), {}).get(version)

    async def update_many(self, gun: str, updates: Sequence[MetaUpdate]) -> None:
        """See `MetaStore.update_many`."""
        async with self._lock:
            for update in updates:
                current = await self.get_current(gun, update.role)
                if current is not None and update.version <= current.version:
                    raise OldVersionError(
                        f"{update.role} version {update.version} <= {current.version}"
                    )
            now = _now()
            for update in updates:
                sha256 = hashlib.sha256(update.data).hexdigest()
                self._sha512[hashlib.sha512(update.data).hexdigest()] = sha256
                stored = StoredMeta(update.role, update.version, update.data, sha256, now)
                self._meta.setdefault((gun, update.role), {})[update.version] = stored
                self._by_sha256[(gun, update.role, sha256)] = stored
                if update.role == "timestamp":
                    self._record(gun, update.version, sha256, "update", now)

    async def delete(self, gun: str) -> None:
        """See `MetaStore.delete`."""
        async with self._lock:
            for key in [key for key in self._meta if key[0] == gun]:
                del self._meta[key]
            for hashed in [key for key in self._by_sha256 if key[0] == gun]:
                del self._by_sha256[hashed]
            self._record(gun, 0, "", "deletion", _now())

    async def get_changes(self, change_id: int, records: int, gun: str | None) -> list[Change]:
        """See `MetaStore.get_changes`."""
        changes = [c for c in self._changes if gun is None or c.gun == gun]
        if records < 0 or change_id < 0:
            before = [c for c in changes if change_id < 0 or c.id < change_id]
            return before[-abs(records) :] if records else []
        return [c for c in changes if c.id > change_id][:records]

    async def add_key(self, key: StoredKey) -> None:
        """See `MetaStore.add_key`."""
        self._keys.setdefault((key.gun, key.role), []).append(key)

    async def get_keys(self, gun: str, role: str) -> list[StoredKey]:
        """See `MetaStore.get_keys`."""
        return list(self._keys.get((gun, role), []))

    def _record(self, gun: str, version: int, sha256: str, category: str, at: dt.datetime) -> None:
        self._changes.append(Change(len(self._changes) + 1, at, gun, version, sha256, category))
