"""Trust-server settings (a frozen value the hub builds from its own configuration)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["TrustServerSettings"]


@dataclass(frozen=True, slots=True)
class TrustServerSettings:
    """Options for the trust routes.

    Attributes:
        key_encryption_secret: secret that seals server-held private keys at rest; every hub
            replica sharing a database needs the same one. Changing it strands the stored
            keys unless they are re-sealed (`trust.server.reseal`).
        max_upload_bytes: bound on one publish request body (bytes).
        timestamp_expiry: lifetime of server-signed timestamps (notary: 14 days).
        snapshot_expiry: lifetime of server-signed snapshots (notary: 3 years).
        current_max_age: Cache-Control max-age for current metadata (seconds).
        consistent_max_age: Cache-Control max-age for metadata by hash or version (seconds).
        read_cache_seconds: how long one process may serve a current document from memory
            before asking the store again (seconds; 0 disables). Other replicas' publishes
            become visible after at most this long.
    """

    key_encryption_secret: bytes
    max_upload_bytes: int = 32 * 1024 * 1024
    timestamp_expiry: dt.timedelta = dt.timedelta(days=14)
    snapshot_expiry: dt.timedelta = dt.timedelta(days=3 * 365)
    current_max_age: int = 300
    consistent_max_age: int = 30 * 24 * 3600
    read_cache_seconds: float = 1.0

    def __post_init__(self) -> None:
        if len(self.key_encryption_secret) < 16:
            raise ValueError("key_encryption_secret must be at least 16 bytes")
