"""Server-made snapshot and timestamp documents (notary's GenerateSnapshot/GenerateTimestamp).

Scope: pure; keys and time are parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from trust.tuf.keys import PrivateKey
from trust.tuf.model import FileMeta, Metadata, Snapshot, Timestamp, format_time

__all__ = ["build_snapshot", "build_timestamp"]


def build_snapshot(
    previous: bytes | None,
    changed: Mapping[str, bytes],
    keys: Iterable[PrivateKey],
    now: dt.datetime,
    expiry: dt.timedelta,
) -> Metadata[Snapshot]:
    """The next snapshot: the previous listing with `changed` roles' hashes updated."""
    meta: dict[str, FileMeta] = {}
    version = 1
    if previous is not None:
        prior = Metadata.from_bytes(previous, Snapshot)
        meta, version = dict(prior.signed.meta), prior.signed.version + 1
    for role, data in changed.items():
        meta[role] = FileMeta.for_bytes(data)
    snapshot = Metadata(Snapshot(version, format_time(now + expiry), meta))
    for key in keys:
        snapshot.sign(key)
    return snapshot


def build_timestamp(
    previous: bytes | None,
    snapshot: bytes,
    keys: Iterable[PrivateKey],
    now: dt.datetime,
    expiry: dt.timedelta,
) -> Metadata[Timestamp]:
    """The next timestamp, pointing at `snapshot`."""
    version = Metadata.from_bytes(previous, Timestamp).signed.version + 1 if previous else 1
    timestamp = Metadata(
        Timestamp(version, format_time(now + expiry), {"snapshot": FileMeta.for_bytes(snapshot)})
    )
    for key in keys:
        timestamp.sign(key)
    return timestamp
