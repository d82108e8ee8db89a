"""An in-memory trust server implementing `trust.remote.RemoteStore`, for client tests.

It behaves like notary-server for honest use (server-held timestamp and snapshot keys,
snapshot and timestamp regenerated on every publish, roots kept by version, documents by
hash) but validates nothing, so tests can play a hostile server by editing `files`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

from trust.remote import DEFAULT_MAX_METADATA_BYTES, RemoteNotFoundError
from trust.tuf.keys import PrivateKey, PublicKey
from trust.tuf.model import FileMeta, Metadata, Snapshot, Timestamp, format_time


class FakeTrustServer:
    """One GUN's server state; `files` maps role -> the bytes served as `<role>.json`."""

    def __init__(self, clock: dt.datetime | None = None) -> None:
        self.now = clock or dt.datetime.now(dt.UTC)
        self.files: dict[str, bytes] = {}
        self.by_hash: dict[str, bytes] = {}
        self.roots: dict[int, bytes] = {}
        self.keys = {
            "timestamp": PrivateKey.generate_ecdsa(),
            "snapshot": PrivateKey.generate_ecdsa(),
        }
        self.timestamp_expiry = dt.timedelta(days=14)
        self.requests: list[str] = []

    # RemoteStore

    def get_meta(
        self,
        role: str,
        *,
        checksum: str | None = None,
        version: int | None = None,
        max_bytes: int = DEFAULT_MAX_METADATA_BYTES,
    ) -> bytes:
        self.requests.append(f"{role}:{checksum or version or ''}")
        if checksum is not None:
            data = self.by_hash.get(checksum)
        elif version is not None:
            data = self.roots.get(version) if role == "root" else None
        else:
            data = self.files.get(role)
        if data is None:
            raise RemoteNotFoundError(f"{role} not found")
        return data[: max_bytes + 1]

    def get_key(self, role: str) -> PublicKey:
        return self.keys[role].public_key()

    def rotate_key(self, role: str) -> PublicKey:
        self.keys[role] = PrivateKey.generate_ecdsa()
        return self.keys[role].public_key()

    def publish(self, files: Mapping[str, bytes]) -> None:
        for role, data in files.items():
            if role != "timestamp":
                self.serve(role, data)
        if "snapshot" not in files:
            self.make_snapshot()
        self.make_timestamp()

    def delete(self) -> None:
        self.files.clear()
        self.by_hash.clear()
        self.roots.clear()

    # server behaviour, also used by tests to forge documents

    def serve(self, role: str, data: bytes) -> None:
        """Serve `data` as the current `role` (and by hash; roots also by version)."""
        self.files[role] = data
        self.by_hash[hashlib.sha256(data).hexdigest()] = data
        if role == "root":
            self.roots[Metadata.from_bytes(data).signed.version] = data

    def make_snapshot(self, version: int | None = None) -> Metadata[Snapshot]:
        old = self.files.get("snapshot")
        previous = Metadata.from_bytes(old).signed.version if old else 0
        meta = {
            role: FileMeta.for_bytes(data)
            for role, data in self.files.items()
            if role not in ("snapshot", "timestamp")
        }
        snapshot = Metadata(
            Snapshot(version or previous + 1, format_time(self.now + dt.timedelta(days=1000)), meta)
        )
        snapshot.sign(self.keys["snapshot"])
        self.serve("snapshot", snapshot.to_bytes())
        return snapshot

    def make_timestamp(self, version: int | None = None) -> Metadata[Timestamp]:
        old = self.files.get("timestamp")
        previous = Metadata.from_bytes(old).signed.version if old else 0
        timestamp = Metadata(
            Timestamp(
                version or previous + 1,
                format_time(self.now + self.timestamp_expiry),
                {"snapshot": FileMeta.for_bytes(self.files["snapshot"])},
            )
        )
        timestamp.sign(self.keys["timestamp"])
        self.serve("timestamp", timestamp.to_bytes())
        return timestamp
