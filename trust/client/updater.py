"""Refresh a GUN's trust data from a trust server and resolve tags to signed digests.

Workflow of `Updater.refresh` (all I/O through one `RemoteStore` and one `MetadataCache`):

1. Trust anchor: the cached root, or on first use the server's root (trust on first use,
   as Docker and notary do), or a root pinned by the caller.
2. Root rotation: fetch the newest `root.json`; if the trusted root does not sign it, walk
   `N.root.json` for N = trusted+1 ... newest-1, each signed by its predecessor and itself.
3. Timestamp, then the snapshot it lists (fetched by hash), then targets and every delegated
   role the snapshot lists (by hash), parents before children. As in notary's client, a
   delegated role that is expired or under its threshold is skipped, not fatal.
4. Only when everything verified, the new bytes replace the cache (atomically per file).

Versions never go below the cached ones, so a server cannot roll a client back.
`resolve` then answers "which digest is tag T signed as", with Docker's role priority.

Scope: orchestration and I/O; every check lives in `TrustedSet` (pure).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from trust.client.cache import MetadataCache
from trust.client.trusted_set import TrustedSet
from trust.remote import RemoteNotFoundError, RemoteStore
from trust.tuf.errors import (
    ExpiredMetadataError,
    MalformedMetadataError,
    MissingMetaError,
    RepositoryNotInitializedError,
    RollbackError,
    SignatureError,
    TargetNotFoundError,
    ThresholdError,
)
from trust.tuf.model import FileMeta, Metadata, Root

__all__ = [
    "DOCKER_ROLES",
    "RELEASES_ROLE",
    "SignedTarget",
    "Updater",
    "list_targets",
    "load_delegations",
    "resolve",
    "verify_documents",
]

logger = logging.getLogger(__name__)

# docker/cli trust: GetTargetByName(tag, "targets/releases", "targets"), and a hit in any
# other role is refused.
RELEASES_ROLE = "targets/releases"
DOCKER_ROLES = (RELEASES_ROLE, "targets")
_MAX_ROOT_WALK = 1024  # root versions walked in one refresh
_MAX_DELEGATIONS = 1024  # delegated roles loaded in one refresh


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class SignedTarget:
    """A signed tag: the manifest's sha256 (hex), its length, and the role that signed it."""

    name: str
    sha256: str
    length: int
    role: str

    @property
    def digest(self) -> str:
        """The OCI digest string `sha256:<hex>`."""
        return f"sha256:{self.sha256}"


class Updater:
    """Keeps the local cache of one GUN in step with the trust server, verifying everything."""

    def __init__(
        self,
        gun: str,
        remote: RemoteStore,
        cache: MetadataCache,
        *,
        clock: Callable[[], dt.datetime] = _utcnow,
        pinned_root: bytes | None = None,
    ) -> None:
        """Prepare an updater.

        Args:
            gun: the repository's globally unique name.
            remote: the trust server seam.
            cache: the local metadata cache of this GUN.
            clock: returns "now" (aware datetime) for expiry checks.
            pinned_root: a root to trust instead of the cache or first use.
        """
        self.gun = gun
        self.remote = remote
        self.cache = cache
        self.clock = clock
        self.pinned_root = pinned_root

    def refresh(self) -> TrustedSet:
        """Fetch and verify the newest trust data, update the cache, return the verified set.

        Raises:
            RepositoryNotInitializedError: the server has no trust data for the GUN.
            TrustError: any verification failed (nothing is written to the cache then).
        """
        now = self.clock()
        floors = self._cached_versions()
        anchor = self.pinned_root or self.cache.load("root")
        try:
            latest_root = self.remote.get_meta("root")
        except RemoteNotFoundError:
            raise RepositoryNotInitializedError(f"no trust data for {self.gun}") from None
        if anchor is None:
            logger.info("trusting the root of %s on first use", self.gun)
            trusted = TrustedSet(self.gun, latest_root, now, min_versions=floors)
        else:
            trusted = TrustedSet(self.gun, anchor, now, min_versions=floors)
            self._rotate_root(trusted, latest_root)

        trusted.update_timestamp(self.remote.get_meta("timestamp"))
        trusted.update_snapshot(self._fetch("snapshot", trusted.snapshot_meta()))
        targets_meta = trusted.role_meta("targets")
        if targets_meta is None:
            raise MalformedMetadataError("snapshot does not list targets")
        trusted.update_targets(self._fetch("targets", targets_meta))
        load_delegations(trusted, self._fetch, self.gun)
        self._persist(trusted)
        return trusted

    def _rotate_root(self, trusted: TrustedSet, latest_bytes: bytes) -> None:
        latest = Metadata.from_bytes(latest_bytes, Root)
        current = trusted.root.signed.version
        if latest.signed.version < current:
            raise RollbackError(f"server root version {latest.signed.version} < {current}")
        if latest.signed.version == current:
            return
        try:
            trusted.update_root(latest_bytes)
            return
        except SignatureError:
            logger.info("newest root of %s not signed by trusted keys; walking versions", self.gun)
        last = min(latest.signed.version, current + _MAX_ROOT_WALK)
        for version in range(current + 1, last):
            trusted.update_root(self.remote.get_meta("root", version=version))
        trusted.update_root(latest_bytes)

    def _fetch(self, role: str, meta: FileMeta) -> bytes:
        """Fetch `role` by its sha256 (consistent fetch), falling back to the plain name."""
        digest = meta.digest("sha256")
        if digest is not None:
            try:
                return self.remote.get_meta(role, checksum=digest.hex(), max_bytes=meta.length)
            except RemoteNotFoundError:
                logger.debug("%s not available by hash; fetching by name", role)
        return self.remote.get_meta(role, max_bytes=meta.length)

    def _cached_versions(self) -> dict[str, int]:
        versions = {}
        for role in self.cache.roles():
            data = self.cache.load(role)
            if data is None:
                continue
            try:
                versions[role] = Metadata.from_bytes(data).signed.version
            except MalformedMetadataError as exc:
                logger.warning("ignoring corrupt cached %s of %s: %s", role, self.gun, exc)
        return versions

    def _persist(self, trusted: TrustedSet) -> None:
        for role in set(self.cache.roles()) - set(trusted.raw):
            self.cache.remove(role)
        for role, data in trusted.raw.items():
            self.cache.store(role, data)


def load_delegations(
    trusted: TrustedSet, fetch: Callable[[str, FileMeta], bytes], gun: str
) -> None:
    """Load every delegated role the snapshot lists, parents first, into `trusted`.

    As notary's client does, a delegated role that is expired or under its threshold is
    skipped (its targets stay untrusted); any other failure propagates.
    """
    pending = ["targets"]
    loaded = 0
    while pending and loaded < _MAX_DELEGATIONS:
        parent = pending.pop(0)
        for info in trusted.delegated_roles(parent):
            meta = trusted.role_meta(info.name)
            if meta is None or info.name in trusted.targets:
                continue  # delegated but never published: it signs nothing yet
            try:
                trusted.update_delegated_targets(info.name, fetch(info.name, meta))
            except (ExpiredMetadataError, ThresholdError) as exc:
                logger.warning("ignoring delegation %s of %s: %s", info.name, gun, exc)
                continue
            pending.append(info.name)
            loaded += 1


def verify_documents(gun: str, documents: Mapping[str, bytes], now: dt.datetime) -> TrustedSet:
    """Verify a complete set of current documents, anchored at their own root.

    For a party that already trusts the root it holds (a trust server checking what it
    stores): no rotation walk and no rollback floor, every other check as `refresh`.

    Raises:
        MissingMetaError: a role the snapshot lists is absent from `documents`.
        TrustError: any verification failure.
    """

    def fetch(role: str, meta: FileMeta) -> bytes:
        if role not in documents:
            raise MissingMetaError(f"{role} is listed in the snapshot but not stored")
        return documents[role]

    for role in ("root", "timestamp", "snapshot", "targets"):
        if role not in documents:
            raise MissingMetaError(f"no {role} for {gun}")
    trusted = TrustedSet(gun, documents["root"], now)
    trusted.update_timestamp(documents["timestamp"])
    trusted.update_snapshot(documents["snapshot"])
    trusted.update_targets(documents["targets"])
    load_delegations(trusted, fetch, gun)
    return trusted


def _walk(trusted: TrustedSet, start: str, subtrees: bool) -> Iterable[str]:
    if start not in trusted.targets:
        return
    yield start
    if not subtrees:
        return
    for info in trusted.delegated_roles(start):
        yield from _walk(trusted, info.name, subtrees)


def _signed_in(trusted: TrustedSet, role: str, name: str) -> SignedTarget | None:
    info = trusted.delegations.get(role)
    if info is not None and not info.covers(name):
        return None  # a delegated role may only sign within its paths
    meta = trusted.targets[role].signed.targets.get(name)
    if meta is None:
        return None
    digest = meta.digest("sha256")
    if digest is None:
        return None
    return SignedTarget(name, digest.hex(), meta.length, role)


def resolve(
    trusted: TrustedSet,
    name: str,
    roles: Iterable[str] = DOCKER_ROLES,
    *,
    subtrees: bool = False,
) -> SignedTarget:
    """The signed target `name` from the first role (in `roles` order) that signs it.

    Args:
        trusted: a refreshed, verified set.
        name: the target (tag) name.
        roles: roles in priority order; the default is Docker's (releases, then targets).
        subtrees: also search each role's delegations, depth-first (notary's lookup order).

    Raises:
        TargetNotFoundError: no listed role signs `name`.
    """
    for start in roles:
        for role in _walk(trusted, start, subtrees):
            found = _signed_in(trusted, role, name)
            if found is not None:
                return found
    raise TargetNotFoundError(f"no trust data for {name} in {trusted.gun}")


def list_targets(
    trusted: TrustedSet, roles: Iterable[str] | None = None
) -> dict[str, list[SignedTarget]]:
    """Every signed target by name, each with the roles signing it in priority order.

    Args:
        trusted: a refreshed, verified set.
        roles: roles to include; default every loaded role (targets first, then delegations).
    """
    order = list(roles) if roles is not None else list(_walk(trusted, "targets", True))
    result: dict[str, list[SignedTarget]] = {}
    for role in order:
        if role not in trusted.targets:
            continue
        for name in trusted.targets[role].signed.targets:
            found = _signed_in(trusted, role, name)
            if found is not None:
                result.setdefault(name, []).append(found)
    return result
