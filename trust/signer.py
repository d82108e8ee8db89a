"""Repository-side signing: create a trusted repository, sign and revoke tags, manage
delegations and signers, rotate keys. What `berth trust ...` and a signed push call.

Every operation starts from a freshly verified state (`Updater.refresh`), changes the roles
it must, signs them with keys from the local `KeyStore`, publishes them in one atomic
upload, and refreshes again so the cache holds exactly what the server now serves.
New roles follow notary's defaults: root (certificate key, CN = GUN) expires in 10 years,
targets and snapshot in 3; versions go up by one per change. The snapshot is signed here
only when its key is local (notary CLI default); otherwise the server signs it (Docker CLI
default), and the timestamp is always the server's.

Scope: orchestration over the key store, the pure model and the `RemoteStore` seam.
"""

from __future__ import annotations

import datetime as dt
import logging
import posixpath
from collections.abc import Callable, Iterable
from typing import Any

from trust.client.cache import MetadataCache
from trust.client.trusted_set import TrustedSet
from trust.client.updater import RELEASES_ROLE, Updater
from trust.keystore.store import KeyStore, PassphraseRetriever
from trust.remote import RemoteNotFoundError, RemoteStore
from trust.tuf.errors import DelegationError, KeyNotFoundError, TrustError
from trust.tuf.keys import PrivateKey, PublicKey, make_root_certificate
from trust.tuf.model import (
    DelegatedRole,
    Delegations,
    FileMeta,
    Metadata,
    Root,
    RootRole,
    Snapshot,
    Targets,
    format_time,
    is_delegation_name,
)

__all__ = ["RELEASES_ROLE", "Repository", "RepositoryExistsError"]

logger = logging.getLogger(__name__)

_YEAR = dt.timedelta(days=365)
_EXPIRY = {"root": 10 * _YEAR, "targets": 3 * _YEAR, "snapshot": 3 * _YEAR}


class RepositoryExistsError(TrustError):
    """The trust server already has trust data for this GUN."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Repository:
    """Signing operations on one GUN."""

    def __init__(
        self,
        gun: str,
        remote: RemoteStore,
        keystore: KeyStore,
        passphrases: PassphraseRetriever,
        *,
        cache: MetadataCache | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        """Prepare signing for `gun`.

        Args:
            gun: the repository's globally unique name.
            remote: the trust server seam.
            keystore: where private keys live (and new ones go).
            passphrases: role -> passphrase, for decrypting and encrypting keys.
            cache: the metadata cache (default: the key store's trust directory).
            clock: returns "now" (aware datetime).
        """
        self.gun = gun
        self.remote = remote
        self.keystore = keystore
        self.passphrases = passphrases
        self.cache = cache or MetadataCache(keystore.trust_dir, gun)
        self.clock = clock

    def refresh(self) -> TrustedSet:
        """Verify the server's current trust data (and update the cache)."""
        return Updater(self.gun, self.remote, self.cache, clock=self.clock).refresh()

    # -- creation -----------------------------------------------------------------------

    def initialize(self, *, server_managed_snapshot: bool = True) -> str:
        """Create root and targets (and the snapshot key when not server-managed) and publish.

        An existing root key in the key store is reused, as Docker and notary do.

        Returns:
            The canonical ID of the root key.

        Raises:
            RepositoryExistsError: the server already has a root for the GUN.
        """
        try:
            self.remote.get_meta("root")
        except RemoteNotFoundError:
            pass
        else:
            raise RepositoryExistsError(f"{self.gun} already has trust data")
        now = self.clock()
        root_key = self._root_key()
        targets_key = PrivateKey.generate_ecdsa()
        self.keystore.add(targets_key, "targets", self.gun, self.passphrases("targets"))
        snapshot_key: PrivateKey | None = None
        if server_managed_snapshot:
            snapshot_public = self.remote.get_key("snapshot")
        else:
            snapshot_key = PrivateKey.generate_ecdsa()
            self.keystore.add(snapshot_key, "snapshot", self.gun, self.passphrases("snapshot"))
            snapshot_public = snapshot_key.public_key()
        timestamp_public = self.remote.get_key("timestamp")
        certificate = make_root_certificate(root_key, self.gun, now)
        keys = {
            "root": certificate,
            "targets": targets_key.public_key(),
            "snapshot": snapshot_public,
            "timestamp": timestamp_public,
        }
        root = Metadata(
            Root(
                version=1,
                expires=format_time(now + _EXPIRY["root"]),
                keys={key.key_id: key for key in keys.values()},
                roles={role: RootRole([key.key_id], 1) for role, key in keys.items()},
            )
        )
        root.sign(root_key, certificate)
        targets = Metadata(Targets(1, format_time(now + _EXPIRY["targets"]), {}, Delegations()))
        targets.sign(targets_key)
        files = {"root": root.to_bytes(), "targets": targets.to_bytes()}
        if snapshot_key is not None:
            snapshot = Metadata(
                Snapshot(
                    1,
                    format_time(now + _EXPIRY["snapshot"]),
                    {role: FileMeta.for_bytes(data) for role, data in files.items()},
                )
            )
            snapshot.sign(snapshot_key)
            files["snapshot"] = snapshot.to_bytes()
        self.remote.publish(files)
        self.cache.clear()
        self.refresh()
        logger.info("initialized trust data for %s", self.gun)
        return root_key.key_id

    # -- targets ------------------------------------------------------------------------

    def sign_target(
        self, name: str, sha256_hex: str, length: int, role: str | None = None
    ) -> list[str]:
        """Sign tag `name` as the manifest with this sha256 and length.

        Args:
            name: the tag.
            sha256_hex: hex sha256 of the manifest bytes.
            length: manifest length in bytes.
            role: the one role to sign in; by default Docker's choice: `targets` when the
                repository has no delegations, else every direct delegation of `targets`
                whose paths cover the tag and whose key is local (`targets/releases` and
                `targets/<signer>` after `docker trust signer add`).

        Returns:
            The roles that now sign the tag.

        Raises:
            KeyNotFoundError: delegations exist but none of their keys is local.
        """
        trusted = self.refresh()
        roles = [role] if role else self._signable_roles(trusted, name)
        changed = {}
        for signing_role in roles:
            targets = self._editable_targets(trusted, signing_role)
            targets.signed.targets[name] = FileMeta.for_digest(sha256_hex, length)
            changed[signing_role] = targets
        self._publish_targets(trusted, changed)
        return roles

    def remove_target(self, name: str, roles: Iterable[str] | None = None) -> list[str]:
        """Revoke tag `name` from every role (or the given roles) that we can sign.

        Returns:
            The roles it was removed from.

        Raises:
            KeyNotFoundError: it is signed only in roles whose keys we do not hold.
        """
        trusted = self.refresh()
        candidates = list(roles) if roles is not None else list(trusted.targets)
        changed: dict[str, Metadata[Targets]] = {}
        for role in candidates:
            metadata = trusted.targets.get(role)
            if metadata is None or name not in metadata.signed.targets:
                continue
            if not self._signing_keys(self._role_keys(trusted, role)[0]):
                continue
            targets = self._editable_targets(trusted, role)
            del targets.signed.targets[name]
            changed[role] = targets
        if not changed:
            raise KeyNotFoundError(f"no role we can sign lists {name}")
        self._publish_targets(trusted, changed)
        return sorted(changed)

    # -- delegations and signers --------------------------------------------------------

    def add_delegation(
        self,
        role: str,
        keys: Iterable[PublicKey],
        paths: Iterable[str] = ("",),
        threshold: int = 1,
    ) -> None:
        """Delegate `role` (e.g. `targets/releases`) to `keys` within `paths`.

        Keys and paths are merged into an existing delegation.

        Raises:
            DelegationError: invalid role name or the parent role is not trusted yet.
        """
        trusted = self.refresh()
        changed = self._with_delegation(trusted, {}, role, keys, paths, threshold)
        self._publish_targets(trusted, changed)

    def add_signer(self, signer: str, keys: Iterable[PublicKey]) -> None:
        """`docker trust signer add`: delegate `targets/releases` and `targets/<signer>`."""
        keys = list(keys)
        trusted = self.refresh()
        changed = self._with_delegation(trusted, {}, RELEASES_ROLE, keys, ("",), 1)
        changed = self._with_delegation(trusted, changed, f"targets/{signer}", keys, ("",), 1)
        self._publish_targets(trusted, changed)

    def remove_delegation(self, role: str) -> None:
        """Remove delegation `role` (and keys no other delegation of its parent uses)."""
        trusted = self.refresh()
        parent = posixpath.dirname(role)
        targets = self._editable_targets(trusted, parent)
        delegations = targets.signed.delegations or Delegations()
        if delegations.role(role) is None:
            raise DelegationError(f"{parent} does not delegate to {role}")
        delegations.roles = [entry for entry in delegations.roles if entry.name != role]
        _drop_unused_keys(delegations)
        self._publish_targets(trusted, {parent: targets})

    def remove_signer(self, signer: str) -> None:
        """`docker trust signer remove`: drop `targets/<signer>` and its keys from releases."""
        trusted = self.refresh()
        role = f"targets/{signer}"
        targets = self._editable_targets(trusted, "targets")
        delegations = targets.signed.delegations or Delegations()
        entry = delegations.role(role)
        if entry is None:
            raise DelegationError(f"no signer {signer} in {self.gun}")
        delegations.roles = [r for r in delegations.roles if r.name != role]
        releases = delegations.role(RELEASES_ROLE)
        if releases is not None:
            releases.keyids = [kid for kid in releases.keyids if kid not in entry.keyids]
        _drop_unused_keys(delegations)
        self._publish_targets(trusted, {"targets": targets})

    # -- rotation -----------------------------------------------------------------------

    def rotate_root_key(self) -> str:
        """Replace the root key; the new root is signed by the old and the new key.

        Returns:
            The canonical ID of the new root key.
        """
        trusted = self.refresh()
        old_keys = self._signing_keys(trusted.root.signed.role_keys("root")[0])
        if not old_keys:
            raise KeyNotFoundError(f"no root key of {self.gun} in the key store")
        new_key = PrivateKey.generate_ecdsa()
        self.keystore.add(new_key, "root", "", self.passphrases("root"))
        certificate = make_root_certificate(new_key, self.gun, self.clock())
        root = self._next_root(trusted, "root", certificate)
        for private, public in old_keys:
            root.sign(private, public)
        root.sign(new_key, certificate)
        self._publish_root(trusted, root)
        return new_key.key_id

    def rotate_remote_key(self, role: str) -> PublicKey:
        """Have the server rotate its `timestamp` or `snapshot` key and list it in root."""
        if role not in ("timestamp", "snapshot"):
            raise ValueError("only timestamp and snapshot keys are server-held")
        trusted = self.refresh()
        new_key = self.remote.rotate_key(role)
        root = self._next_root(trusted, role, new_key)
        self._sign_as(root, trusted.root.signed.role_keys("root")[0])
        self._publish_root(trusted, root)
        return new_key

    def delete_remote(self) -> None:
        """Delete the GUN's trust data on the server and in the local cache."""
        self.remote.delete()
        self.cache.clear()

    # -- helpers ------------------------------------------------------------------------

    def _root_key(self) -> PrivateKey:
        for key_id in self.keystore.find("root"):
            return self.keystore.get(key_id, self.passphrases("root"))
        key = PrivateKey.generate_ecdsa()
        self.keystore.add(key, "root", "", self.passphrases("root"))
        return key

    def _signing_keys(self, keys: dict[str, PublicKey]) -> list[tuple[PrivateKey, PublicKey]]:
        stored = self.keystore.list_keys()
        found = []
        for public in keys.values():
            canonical = public.canonical_id()
            info = stored.get(canonical)
            if info is None:
                continue
            passphrase = self.passphrases("root" if info.role == "root" else info.role)
            found.append((self.keystore.get(canonical, passphrase), public))
        return found

    def _sign_as(self, metadata: Metadata[Any], keys: dict[str, PublicKey]) -> None:
        signers = self._signing_keys(keys)
        if not signers:
            raise KeyNotFoundError(f"no signing key in the key store among {sorted(keys)}")
        for private, public in signers:
            metadata.sign(private, public)

    def _role_keys(self, trusted: TrustedSet, role: str) -> tuple[dict[str, PublicKey], int]:
        if role == "targets":
            return trusted.root.signed.role_keys("targets")
        parent = trusted.targets.get(posixpath.dirname(role))
        delegations = parent.signed.delegations if parent is not None else None
        entry = delegations.role(role) if delegations is not None else None
        if entry is None or delegations is None:
            raise DelegationError(f"{role} is not delegated in {self.gun}")
        keys = {kid: delegations.keys[kid] for kid in entry.keyids if kid in delegations.keys}
        return keys, entry.threshold

    def _signable_roles(self, trusted: TrustedSet, name: str) -> list[str]:
        """docker/cli's getSignableRoles."""
        delegations = trusted.targets["targets"].signed.delegations
        children = [
            entry
            for entry in (delegations.roles if delegations is not None else [])
            if posixpath.dirname(entry.name) == "targets"
        ]
        if delegations is None or not children:
            return ["targets"]
        roles = []
        for entry in children:
            keys = {kid: delegations.keys[kid] for kid in entry.keyids if kid in delegations.keys}
            if entry.covers(name) and self._signing_keys(keys):
                roles.append(entry.name)
        if not roles:
            raise KeyNotFoundError("no valid signing keys for delegation roles")
        return roles

    def _editable_targets(self, trusted: TrustedSet, role: str) -> Metadata[Targets]:
        """A copy of the role's targets with version + 1 and a fresh expiry."""
        now = self.clock()
        expires = format_time(now + _EXPIRY["targets"])
        raw = trusted.raw.get(role)
        if raw is None:
            if role != "targets" and not is_delegation_name(role):
                raise DelegationError(f"invalid role {role}")
            self._role_keys(trusted, role)  # the role must be delegated before it signs
            return Metadata(Targets(1, expires, {}, Delegations()))
        metadata = Metadata.from_bytes(raw, Targets)
        metadata.signed.version += 1
        metadata.signed.expires = expires
        metadata.signatures = []
        return metadata

    def _with_delegation(
        self,
        trusted: TrustedSet,
        changed: dict[str, Metadata[Targets]],
        role: str,
        keys: Iterable[PublicKey],
        paths: Iterable[str],
        threshold: int,
    ) -> dict[str, Metadata[Targets]]:
        if not is_delegation_name(role):
            raise DelegationError(f"invalid delegation name {role!r}")
        parent = posixpath.dirname(role)
        targets = changed.get(parent) or self._editable_targets(trusted, parent)
        if targets.signed.delegations is None:
            targets.signed.delegations = Delegations()
        delegations = targets.signed.delegations
        key_ids = []
        for key in keys:
            delegations.keys[key.key_id] = key
            key_ids.append(key.key_id)
        entry = delegations.role(role)
        if entry is None:
            delegations.roles.append(DelegatedRole(role, key_ids, threshold, list(paths)))
        else:
            entry.keyids += [kid for kid in key_ids if kid not in entry.keyids]
            entry.paths = (entry.paths or []) + [p for p in paths if p not in (entry.paths or [])]
            entry.threshold = threshold
        return {**changed, parent: targets}

    def _publish_targets(self, trusted: TrustedSet, changed: dict[str, Metadata[Targets]]) -> None:
        files: dict[str, bytes] = {}
        for role, metadata in changed.items():
            self._sign_as(metadata, self._role_keys(trusted, role)[0])
            files[role] = metadata.to_bytes()
        self._publish(trusted, files)

    def _next_root(self, trusted: TrustedSet, role: str, key: PublicKey) -> Metadata[Root]:
        root = Metadata.from_bytes(trusted.root_bytes, Root)
        signed = root.signed
        old_ids = set(signed.roles[role].keyids)
        signed.roles[role] = RootRole([key.key_id], 1)
        still_used = {kid for entry in signed.roles.values() for kid in entry.keyids}
        for kid in old_ids - still_used:
            signed.keys.pop(kid, None)
        signed.keys[key.key_id] = key
        signed.version += 1
        signed.expires = format_time(self.clock() + _EXPIRY["root"])
        root.signatures = []
        return root

    def _publish_root(self, trusted: TrustedSet, root: Metadata[Root]) -> None:
        self._publish(trusted, {"root": root.to_bytes()}, root=root)

    def _publish(
        self, trusted: TrustedSet, files: dict[str, bytes], root: Metadata[Root] | None = None
    ) -> None:
        """Upload `files`, adding a locally signed snapshot when the snapshot key is local."""
        snapshot_keys = (root or trusted.root).signed.role_keys("snapshot")[0]
        if trusted.snapshot is not None and self._signing_keys(snapshot_keys):
            snapshot = Metadata.from_bytes(trusted.raw["snapshot"], Snapshot)
            snapshot.signed.version += 1
            snapshot.signed.expires = format_time(self.clock() + _EXPIRY["snapshot"])
            snapshot.signatures = []
            for role, data in files.items():
                snapshot.signed.meta[role] = FileMeta.for_bytes(data)
            self._sign_as(snapshot, snapshot_keys)
            files = {**files, "snapshot": snapshot.to_bytes()}
        self.remote.publish(files)
        self.refresh()


def _drop_unused_keys(delegations: Delegations) -> None:
    used = {kid for entry in delegations.roles for kid in entry.keyids}
    delegations.keys = {kid: key for kid, key in delegations.keys.items() if kid in used}
