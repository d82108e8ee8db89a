"""The trust service: what each trust route does, over a `MetaStore` and the server keyring.

* reads: current metadata, by hash, by version; an expired server-signed timestamp (and
  snapshot) is re-signed on read, as notary-server does, so clients never see stale ones;
* publish: validate (`validation.py`), sign a snapshot when the client sent none and the
  server holds the snapshot key, always sign a new timestamp, store everything atomically;
* server keys: get-or-create and rotate; delete; the change feed.

Scope: orchestration; HTTP lives in `handlers.py`, checks in `validation.py`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from trust.server.errors import (
    BadHierarchyError,
    BadRootError,
    InvalidRoleError,
    MetadataNotFoundError,
    OldVersionError,
)
from trust.server.keyring import SERVER_ROLES, ServerKeyring
from trust.server.readcache import ReadCache
from trust.server.settings import TrustServerSettings
from trust.server.signing import build_snapshot, build_timestamp
from trust.server.store.base import Change, MetaStore, MetaUpdate, StoredMeta
from trust.server.validation import normalize_role, validate_update
from trust.tuf.keys import PublicKey
from trust.tuf.model import Metadata, Root, Snapshot, Timestamp

__all__ = ["TrustService"]

logger = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TrustService:
    """Notary server behaviour for every GUN."""

    def __init__(
        self,
        store: MetaStore,
        settings: TrustServerSettings,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        store_generation: Callable[[], object] | None = None,
    ) -> None:
        """Serve trust data from `store`; server keys sealed per `settings`; current documents
        cached while `store_generation` (see `ReadCache`) stays the same."""
        self.store = store
        self.settings = settings
        self.keyring = ServerKeyring(store, settings.key_encryption_secret)
        self.clock = clock
        self.cache = ReadCache(settings.read_cache_seconds, generation=store_generation)
        self._expiry: dict[str, dt.datetime] = {}  # timestamp sha256 -> its expiry

    async def get_current(self, gun: str, role: str) -> StoredMeta:
        """The current `role` document (re-signing an expired server timestamp first).

        Raises:
            MetadataNotFoundError: nothing stored.
        """
        if role == "timestamp":
            return await self._fresh_timestamp(gun)
        if role == "snapshot":
            # Like notary: the snapshot the current timestamp points at.
            timestamp = Metadata.from_bytes((await self._fresh_timestamp(gun)).data, Timestamp)
            digest = timestamp.signed.meta["snapshot"].digest("sha256")
            if digest is None:
                raise MetadataNotFoundError(detail=f"{gun} has no snapshot")
            return await self.get_checksum(gun, "snapshot", digest.hex())
        found = self.cache.get(gun, ("current", role))
        if found is None:
            since = self.cache.mark()
            found = await self.store.get_current(gun, role)
            if found is not None:
                self.cache.put(gun, ("current", role), found, immutable=False, since=since)
        if found is None:
            raise MetadataNotFoundError(detail=f"{gun} has no {role}")
        return found

    async def get_checksum(self, gun: str, role: str, checksum: str) -> StoredMeta:
        """The `role` document with this sha256/sha512 hex."""
        lookup = ("checksum", role, checksum.lower())
        found = self.cache.get(gun, lookup) or await self.store.get_checksum(gun, role, checksum)
        if found is None:
            raise MetadataNotFoundError(detail=f"{gun} has no {role} with checksum {checksum}")
        self.cache.put(gun, lookup, found, immutable=True)
        return found

    async def get_version(self, gun: str, role: str, version: int) -> StoredMeta:
        """The `role` document at `version`."""
        lookup = ("version", role, version)
        found = self.cache.get(gun, lookup) or await self.store.get_version(gun, role, version)
        if found is None:
            raise MetadataNotFoundError(detail=f"{gun} has no {role} version {version}")
        self.cache.put(gun, lookup, found, immutable=True)
        return found

    async def get_key(self, gun: str, role: str) -> PublicKey:
        """The server's public key for `role`, created on first request."""
        self._check_server_role(role)
        return await self.keyring.get_or_create(gun, role)

    async def rotate_key(self, gun: str, role: str) -> PublicKey:
        """A new server key for `role`; it signs once a published root lists it."""
        self._check_server_role(role)
        return await self.keyring.rotate(gun, role)

    async def publish(self, gun: str, parts: Sequence[tuple[str, bytes]]) -> None:
        """Validate and store an atomic update (multipart `files` parts: filename, body).

        Raises:
            TrustServerError: the Notary error for whatever is wrong; nothing is stored then.
        """
        now = self.clock()
        uploads = {normalize_role(filename): body for filename, body in parts}
        stored = await self.store.get_all_current(gun)
        validated = validate_update(gun, uploads, stored, now)
        current = {role: meta.data for role, meta in stored.items()}
        updates = list(validated.updates)
        root = validated.root.signed
        snapshot_bytes = uploads.get("snapshot")
        if validated.needs_snapshot:
            keys = await self.keyring.signing_keys(gun, "snapshot", root)
            if not keys:
                raise BadHierarchyError(
                    "snapshot",
                    "no snapshot was included in update and server does not hold current "
                    "snapshot key for repository",
                )
            snapshot = build_snapshot(
                current.get("snapshot"), validated.changed, keys, now, self.settings.snapshot_expiry
            )
            snapshot_bytes = snapshot.to_bytes()
            updates.append(MetaUpdate("snapshot", snapshot.signed.version, snapshot_bytes))
        assert snapshot_bytes is not None
        updates.append(await self._timestamp_update(gun, root, current, snapshot_bytes, now))
        await self.store.update_many(gun, updates)
        self.cache.forget(gun)
        logger.info("published %s for %s", ", ".join(u.role for u in updates), gun)

    async def delete(self, gun: str) -> None:
        """Delete every document of `gun`."""
        await self.store.delete(gun)
        self.cache.forget(gun)
        logger.info("deleted trust data of %s", gun)

    async def changes(self, gun: str | None, change_id: int, records: int) -> list[Change]:
        """Change-feed records (see `MetaStore.get_changes`)."""
        return await self.store.get_changes(change_id, records, gun)

    @staticmethod
    def _check_server_role(role: str) -> None:
        if role not in SERVER_ROLES:
            raise InvalidRoleError(f"the server holds no {role} key", detail=role)

    async def _timestamp_update(
        self,
        gun: str,
        root: Root,
        current: dict[str, bytes],
        snapshot_bytes: bytes,
        now: dt.datetime,
    ) -> MetaUpdate:
        keys = await self.keyring.signing_keys(gun, "timestamp", root)
        if not keys:
            raise BadRootError("no timestamp keys exist on the server")
        timestamp = build_timestamp(
            current.get("timestamp"), snapshot_bytes, keys, now, self.settings.timestamp_expiry
        )
        return MetaUpdate("timestamp", timestamp.signed.version, timestamp.to_bytes())

    async def _fresh_timestamp(self, gun: str) -> StoredMeta:
        """The current timestamp, re-signed (with a server snapshot if that expired too)."""
        stored: StoredMeta | None = None
        for _ in range(3):  # another replica may re-sign at the same moment
            stored = self.cache.get(gun, ("current", "timestamp"))
            if stored is None:
                since = self.cache.mark()
                stored = await self.store.get_current(gun, "timestamp")
                if stored is None:
                    raise MetadataNotFoundError(detail=f"{gun} has no timestamp")
                self.cache.put(gun, ("current", "timestamp"), stored, immutable=False, since=since)
            now = self.clock()
            if self._timestamp_expiry(stored) > now:
                return stored
            self.cache.forget(gun)
            try:
                await self._resign(gun, now)
            except OldVersionError:
                continue
        if stored is None:
            raise MetadataNotFoundError(detail=f"{gun} has no timestamp")
        return stored

    def _timestamp_expiry(self, stored: StoredMeta) -> dt.datetime:
        expiry = self._expiry.get(stored.sha256)
        if expiry is None:
            if len(self._expiry) > 4096:
                self._expiry.clear()
            expiry = Metadata.from_bytes(stored.data, Timestamp).signed.expires_at
            self._expiry[stored.sha256] = expiry
        return expiry

    async def _resign(self, gun: str, now: dt.datetime) -> None:
        current = {
            role: meta.data for role, meta in (await self.store.get_all_current(gun)).items()
        }
        root = Metadata.from_bytes(current["root"], Root).signed
        updates = []
        snapshot_bytes = current["snapshot"]
        snapshot_keys = await self.keyring.signing_keys(gun, "snapshot", root)
        if snapshot_keys and Metadata.from_bytes(snapshot_bytes, Snapshot).signed.is_expired(now):
            snapshot = build_snapshot(
                snapshot_bytes, {}, snapshot_keys, now, self.settings.snapshot_expiry
            )
            snapshot_bytes = snapshot.to_bytes()
            updates.append(MetaUpdate("snapshot", snapshot.signed.version, snapshot_bytes))
        try:
            updates.append(await self._timestamp_update(gun, root, current, snapshot_bytes, now))
        except BadRootError:
            logger.warning("cannot re-sign the expired timestamp of %s: no server key", gun)
            return
        await self.store.update_many(gun, updates)
        self.cache.forget(gun)
        logger.info("re-signed the expired timestamp of %s", gun)
