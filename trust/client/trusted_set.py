"""The verified state of one GUN's trust data, fed bytes in TUF's mandatory order.

A `TrustedSet` turns untrusted bytes into verified metadata objects. Rules (TUF client
workflow, as Notary's `tuf/builder.go` applies them to the Notary format):

1. Start from a trusted root (cached, or the first one seen: trust on first use). A root
   must be signed by a threshold of its own root keys; certificate root keys must be issued
   for this GUN and valid at `now`.
2. `update_root` (0..n times, only before the timestamp): the new root must have a higher
   version and be signed by a threshold of the *old* root's root keys and of its own.
3. `update_timestamp`: the final root must not be expired; signed by the root's timestamp
   keys; not expired; version not below the floor (the cached version).
4. `update_snapshot`: bytes must match the length and hashes the timestamp lists; signed by
   the snapshot keys; not expired; version not below the floor. If it lists root, the hashes
   must match the trusted root's bytes.
5. `update_targets`, then `update_delegated_targets` parent-first: bytes must match the
   snapshot's entry; signed by the targets keys (or the parent's delegation keys and
   threshold); not expired; version not below the floor.

Calling these out of order is a programming error and raises `RuntimeError`; bad data raises
a `TrustError` subclass and leaves the set unchanged.

Scope: pure (no I/O); "now" is a constructor parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

from trust.tuf.errors import DelegationError, MissingMetaError, RollbackError
from trust.tuf.keys import PublicKey
from trust.tuf.model import (
    FileMeta,
    Metadata,
    Root,
    Snapshot,
    Targets,
    Timestamp,
    is_delegation_name,
)
from trust.tuf.roots import verify_root

__all__ = ["DelegationInfo", "TrustedSet"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DelegationInfo:
    """Where a trusted delegated role sits: its parent and its effective path prefixes."""

    name: str
    parent: str
    paths: tuple[str, ...]

    def covers(self, target: str) -> bool:
        """Whether `target` lies within the role's (parent-restricted) paths."""
        return any(target.startswith(prefix) for prefix in self.paths)


class TrustedSet:
    """Verified root, timestamp, snapshot, targets and delegations of one GUN."""

    def __init__(
        self,
        gun: str,
        root_bytes: bytes,
        now: dt.datetime,
        *,
        min_versions: Mapping[str, int] | None = None,
    ) -> None:
        """Anchor trust in `root_bytes`, which must be signed by its own root keys.

        Args:
            gun: the repository's globally unique name (root certificates must name it).
            root_bytes: the trusted root (from the local cache, or first use).
            now: the reference time for every expiry check.
            min_versions: role -> lowest acceptable version (the locally cached versions),
                the defence against rollback by a server.

        Raises:
            TrustError: the root is malformed, not self-signed or has bad certificates.
        """
        self.gun = gun
        self.now = now
        self._floors = dict(min_versions or {})
        root = Metadata.from_bytes(root_bytes, Root)
        self._verify_root_keys(root, root)
        self._check_floor("root", root.signed.version)
        self.root: Metadata[Root] = root
        self.root_bytes = root_bytes
        self.timestamp: Metadata[Timestamp] | None = None
        self.snapshot: Metadata[Snapshot] | None = None
        self.targets: dict[str, Metadata[Targets]] = {}
        self.delegations: dict[str, DelegationInfo] = {}
        self.raw: dict[str, bytes] = {"root": root_bytes}

    def update_root(self, data: bytes) -> Metadata[Root]:
        """Rotate to a newer root signed by the current root and by itself.

        Raises:
            RuntimeError: called after the timestamp was loaded.
            RollbackError: the version is not higher than the trusted root's.
            ThresholdError: not signed by a threshold of the old or of the new root keys.
            CertificateError: a root certificate names another GUN or is expired.
        """
        if self.timestamp is not None:
            raise RuntimeError("cannot update root after the timestamp")
        new = Metadata.from_bytes(data, Root)
        if new.signed.version <= self.root.signed.version:
            raise RollbackError(
                f"root version {new.signed.version} is not above {self.root.signed.version}"
            )
        self._verify_root_keys(self.root, new)
        self._verify_root_keys(new, new)
        self.root, self.root_bytes = new, data
        self.raw["root"] = data
        logger.info("trusted root of %s rotated to version %d", self.gun, new.signed.version)
        return new

    def update_timestamp(self, data: bytes) -> Metadata[Timestamp]:
        """Verify and trust the timestamp.

        Raises:
            RuntimeError: called twice.
            ExpiredMetadataError: the root or the timestamp has expired.
            ThresholdError / RollbackError / MalformedMetadataError: bad timestamp.
        """
        if self.timestamp is not None:
            raise RuntimeError("timestamp already loaded")
        self.root.signed.check_expiry(self.now, "root")
        timestamp = Metadata.from_bytes(data, Timestamp)
        keys, threshold = self.root.signed.role_keys("timestamp")
        timestamp.verify_threshold(keys, threshold, "timestamp")
        self._check_floor("timestamp", timestamp.signed.version)
        timestamp.signed.check_expiry(self.now, "timestamp")
        if "snapshot" not in timestamp.signed.meta:
            raise MissingMetaError("timestamp does not list snapshot")
        self.timestamp = timestamp
        self.raw["timestamp"] = data
        return timestamp

    def snapshot_meta(self) -> FileMeta:
        """The snapshot's expected length and hashes, from the trusted timestamp."""
        if self.timestamp is None:
            raise RuntimeError("load the timestamp first")
        return self.timestamp.signed.meta["snapshot"]

    def update_snapshot(self, data: bytes) -> Metadata[Snapshot]:
        """Verify and trust the snapshot the timestamp points at.

        Raises:
            RuntimeError: no timestamp yet, or snapshot already loaded.
            BadLengthError / BadHashError: bytes differ from the timestamp's entry.
            ThresholdError / RollbackError / ExpiredMetadataError: bad snapshot.
        """
        if self.snapshot is not None:
            raise RuntimeError("snapshot already loaded")
        self.snapshot_meta().verify(data, "snapshot")
        snapshot = Metadata.from_bytes(data, Snapshot)
        keys, threshold = self.root.signed.role_keys("snapshot")
        snapshot.verify_threshold(keys, threshold, "snapshot")
        self._check_floor("snapshot", snapshot.signed.version)
        snapshot.signed.check_expiry(self.now, "snapshot")
        listed_root = snapshot.signed.meta.get("root")
        if listed_root is not None:
            listed_root.verify(self.root_bytes, "root (as listed in snapshot)")
        self.snapshot = snapshot
        self.raw["snapshot"] = data
        return snapshot

    def role_meta(self, role: str) -> FileMeta | None:
        """The snapshot's entry for a targets role (None when the snapshot omits it)."""
        if self.snapshot is None:
            raise RuntimeError("load the snapshot first")
        return self.snapshot.signed.meta.get(role)

    def update_targets(self, data: bytes) -> Metadata[Targets]:
        """Verify and trust the top-level targets role.

        Raises:
            RuntimeError: no snapshot yet, or targets already loaded.
            MissingMetaError: the snapshot does not list targets.
        """
        if "targets" in self.targets:
            raise RuntimeError("targets already loaded")
        meta = self.role_meta("targets")
        if meta is None:
            raise MissingMetaError("snapshot does not list targets")
        keys, threshold = self.root.signed.role_keys("targets")
        return self._load_targets("targets", data, meta, keys, threshold)

    def delegated_roles(self, parent: str) -> list[DelegationInfo]:
        """The valid delegations of a loaded targets role, in priority order."""
        metadata = self.targets.get(parent)
        if metadata is None or metadata.signed.delegations is None:
            return []
        parent_info = self.delegations.get(parent)
        result = []
        for role in metadata.signed.delegations.roles:
            if not is_delegation_name(role.name) or posixpath.dirname(role.name) != parent:
                logger.warning("ignoring invalid delegation %s in %s", role.name, parent)
                continue
            paths = tuple(role.paths or ())
            if parent_info is not None:
                # notary RestrictDelegationPathPrefixes: a child never widens its parent.
                paths = tuple(p for p in paths if any(p.startswith(pp) for pp in parent_info.paths))
            result.append(DelegationInfo(role.name, parent, paths))
        return result

    def update_delegated_targets(self, role: str, data: bytes) -> Metadata[Targets]:
        """Verify and trust a delegated targets role whose parent is already trusted.

        Raises:
            RuntimeError: the parent is not loaded, or the role already is.
            DelegationError: the parent does not delegate to `role`.
            MissingMetaError: the snapshot does not list the role.
        """
        parent = posixpath.dirname(role)
        parent_metadata = self.targets.get(parent)
        if parent_metadata is None:
            raise RuntimeError(f"load {parent} before {role}")
        if role in self.targets:
            raise RuntimeError(f"{role} already loaded")
        info = next((d for d in self.delegated_roles(parent) if d.name == role), None)
        delegations = parent_metadata.signed.delegations
        entry = delegations.role(role) if delegations is not None else None
        if info is None or entry is None or delegations is None:
            raise DelegationError(f"{parent} does not delegate to {role}")
        meta = self.role_meta(role)
        if meta is None:
            raise MissingMetaError(f"snapshot does not list {role}")
        keys = {kid: delegations.keys[kid] for kid in entry.keyids if kid in delegations.keys}
        loaded = self._load_targets(role, data, meta, keys, entry.threshold)
        self.delegations[role] = info
        return loaded

    def _load_targets(
        self,
        role: str,
        data: bytes,
        meta: FileMeta,
        keys: dict[str, PublicKey],
        threshold: int,
    ) -> Metadata[Targets]:
        meta.verify(data, role)
        targets = Metadata.from_bytes(data, Targets)
        targets.verify_threshold(keys, threshold, role)
        self._check_floor(role, targets.signed.version)
        targets.signed.check_expiry(self.now, role)
        self.targets[role] = targets
        self.raw[role] = data
        return targets

    def _verify_root_keys(self, signer_root: Metadata[Root], root: Metadata[Root]) -> None:
        verify_root(signer_root, root, self.gun, self.now)

    def _check_floor(self, role: str, version: int) -> None:
        floor = self._floors.get(role)
        if floor is not None and version < floor:
            raise RollbackError(f"{role} version {version} is below trusted version {floor}")
