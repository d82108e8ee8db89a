"""Server-side validation of a client's update, as notary-server's `validateUpdate` does it.

Given the uploaded documents and the currently stored ones, check (in this order):

1. role names are base roles or valid delegations; documents parse (MALFORMED_JSON);
2. root: the version is the current one + 1 (the first root is version 1); the new root is
   signed by a threshold of its own root keys and, for a rotation, of the current root's;
   certificates name the GUN and are valid; it has not expired (ErrBadRoot);
3. targets roles, parents first: signed by the keys and threshold the (new) root or the
   parent's delegation lists; not expired; delegations name valid children; every target of
   a delegated role lies within its paths as restricted by its ancestors (ErrBadTargets);
4. a client-signed snapshot: signed by the root's snapshot keys, not expired, and listing
   the exact hashes and lengths of the root, targets and every uploaded delegation
   (ErrBadSnapshot); without one, the server must sign a snapshot itself;
5. every uploaded version is above the stored one (VERSION).

A client-uploaded timestamp is ignored: the server always makes a new one.

Scope: pure (bytes in, verdict out; "now" is a parameter). No storage, no keys.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from trust.server.errors import (
    BadRootError,
    BadSnapshotError,
    BadTargetsError,
    InvalidRoleError,
    MalformedJSONError,
    NoFilenameError,
    OldVersionError,
    UpdateValidationError,
)
from trust.server.store.base import MetaUpdate
from trust.tuf.canonicaljson import loads
from trust.tuf.errors import TrustError
from trust.tuf.model import (
    BASE_ROLES,
    Metadata,
    Root,
    Snapshot,
    Targets,
    is_delegation_name,
)
from trust.tuf.roots import verify_root

__all__ = ["ValidatedUpdate", "normalize_role", "validate_update"]


@dataclass(slots=True)
class ValidatedUpdate:
    """The outcome of a valid update.

    Attributes:
        updates: documents to store (root, targets roles, client snapshot), in order.
        root: the root in force after the update.
        needs_snapshot: the client sent no snapshot, so the server must sign one.
        changed: role -> bytes of every uploaded root/targets role (for a new snapshot).
    """

    updates: list[MetaUpdate]
    root: Metadata[Root]
    needs_snapshot: bool
    changed: dict[str, bytes] = field(default_factory=dict)


def normalize_role(filename: str) -> str:
    """The role a multipart file name stands for (`.json` stripped), validated.

    Raises:
        NoFilenameError: empty name.
        InvalidRoleError: not a base role nor a valid delegation name.
    """
    role = filename.removesuffix(".json")
    if not role:
        raise NoFilenameError()
    if role not in BASE_ROLES and not is_delegation_name(role):
        raise InvalidRoleError(f"invalid role {role}", detail=role)
    return role


def _version(data: bytes) -> int:
    try:
        document = loads(data)
        version = document["signed"]["version"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedJSONError() from exc
    if isinstance(version, bool) or not isinstance(version, int | float):
        raise MalformedJSONError()
    return int(version)


def _parse(data: bytes, kind: type, error: type[UpdateValidationError], role: str) -> Metadata:
    try:
        return Metadata.from_bytes(data, kind)
    except TrustError as exc:
        raise error(f"{role}: {exc}") from exc


def validate_update(
    gun: str,
    uploads: Mapping[str, bytes],
    current: Mapping[str, bytes],
    now: dt.datetime,
) -> ValidatedUpdate:
    """Validate an update against the stored state.

    Args:
        gun: the repository.
        uploads: role -> uploaded bytes (role names already normalised).
        current: role -> currently stored bytes.
        now: reference time for expiry and certificate checks.

    Returns:
        What to store, and whether the server must sign the snapshot.

    Raises:
        TrustServerError: the matching Notary error (INVALID_UPDATE, VERSION, ...).
    """
    uploads = {role: data for role, data in uploads.items() if role != "timestamp"}
    versions = {role: _version(data) for role, data in uploads.items()}
    result = ValidatedUpdate([], _validate_root(gun, uploads, current, now), True)
    if "root" in uploads:
        result.updates.append(MetaUpdate("root", versions["root"], uploads["root"]))
        result.changed["root"] = uploads["root"]

    targets_roles = sorted(
        (r for r in uploads if r == "targets" or is_delegation_name(r)),
        key=lambda name: (name.count("/"), name),
    )
    accepted: dict[str, Metadata[Targets]] = {}
    for role in targets_roles:
        _check_newer(role, versions[role], current)
        accepted[role] = _validate_targets(role, uploads[role], result.root, accepted, current, now)
        result.updates.append(MetaUpdate(role, versions[role], uploads[role]))
        result.changed[role] = uploads[role]

    if "snapshot" in uploads:
        _check_newer("snapshot", versions["snapshot"], current)
        _validate_snapshot(uploads["snapshot"], result, current, now)
        result.updates.append(MetaUpdate("snapshot", versions["snapshot"], uploads["snapshot"]))
        result.needs_snapshot = False
    return result


def _check_newer(role: str, version: int, current: Mapping[str, bytes]) -> None:
    if role in current and version <= _version(current[role]):
        raise OldVersionError(f"{role} version {version} is not above the current one")


def _validate_root(
    gun: str, uploads: Mapping[str, bytes], current: Mapping[str, bytes], now: dt.datetime
) -> Metadata[Root]:
    stored = Metadata.from_bytes(current["root"], Root) if "root" in current else None
    if "root" not in uploads:
        if stored is None:
            raise UpdateValidationError("no pre-existing root and no root provided in update.")
        return stored
    current_version = stored.signed.version if stored is not None else 0
    new_version = _version(uploads["root"])
    if stored is not None and new_version == current_version:
        raise OldVersionError(f"root version {new_version} is already stored")
    if new_version != current_version + 1:
        raise BadRootError(
            "Root modifications must increment the version. "
            f"Current {current_version}, new {new_version}"
        )
    root = _parse(uploads["root"], Root, BadRootError, "root")
    try:
        verify_root(root, root, gun, now)
        if stored is not None:
            verify_root(stored, root, gun, now)
        root.signed.check_expiry(now, "root")
    except TrustError as exc:
        raise BadRootError(str(exc)) from exc
    return root


def _targets_of(
    role: str, accepted: Mapping[str, Metadata[Targets]], current: Mapping[str, bytes]
) -> Metadata[Targets] | None:
    if role in accepted:
        return accepted[role]
    if role in current:
        return Metadata.from_bytes(current[role], Targets)
    return None


def _effective_paths(
    role: str, accepted: Mapping[str, Metadata[Targets]], current: Mapping[str, bytes]
) -> tuple[list[str], Metadata[Targets]]:
    """The delegation's paths restricted by every ancestor, and its parent's metadata."""
    chain = []
    name = role
    while name != "targets":
        chain.append(name)
        name = posixpath.dirname(name)
    paths: list[str] | None = None
    parent_metadata: Metadata[Targets] | None = None
    for child in reversed(chain):
        parent = posixpath.dirname(child)
        parent_metadata = _targets_of(parent, accepted, current)
        delegations = parent_metadata.signed.delegations if parent_metadata else None
        entry = delegations.role(child) if delegations is not None else None
        if entry is None:
            raise BadTargetsError(f"{child} is not delegated by {parent}")
        own = list(entry.paths or [])
        paths = own if paths is None else [p for p in own if any(p.startswith(q) for q in paths)]
    assert parent_metadata is not None and paths is not None
    return paths, parent_metadata


def _validate_targets(
    role: str,
    data: bytes,
    root: Metadata[Root],
    accepted: Mapping[str, Metadata[Targets]],
    current: Mapping[str, bytes],
    now: dt.datetime,
) -> Metadata[Targets]:
    targets = _parse(data, Targets, BadTargetsError, role)
    try:
        if role == "targets":
            keys, threshold = root.signed.role_keys("targets")
        else:
            paths, parent = _effective_paths(role, accepted, current)
            delegations = parent.signed.delegations
            assert delegations is not None
            entry = delegations.role(role)
            assert entry is not None
            keys = {k: delegations.keys[k] for k in entry.keyids if k in delegations.keys}
            threshold = entry.threshold
            for name in targets.signed.targets:
                if not any(name.startswith(prefix) for prefix in paths):
                    raise BadTargetsError(f"{role} signs {name!r} outside its paths {paths}")
        targets.verify_threshold(keys, threshold, role)
        targets.signed.check_expiry(now, role)
    except BadTargetsError:
        raise
    except TrustError as exc:
        raise BadTargetsError(str(exc)) from exc
    for entry in targets.signed.delegations.roles if targets.signed.delegations else []:
        if not is_delegation_name(entry.name) or posixpath.dirname(entry.name) != role:
            raise BadTargetsError(f"delegation role {entry.name} invalid in {role}")
    return targets


def _validate_snapshot(
    data: bytes, result: ValidatedUpdate, current: Mapping[str, bytes], now: dt.datetime
) -> None:
    snapshot = _parse(data, Snapshot, BadSnapshotError, "snapshot")
    try:
        keys, threshold = result.root.signed.role_keys("snapshot")
        snapshot.verify_threshold(keys, threshold, "snapshot")
        snapshot.signed.check_expiry(now, "snapshot")
        required = {"root", "targets", *result.changed}
        for role in sorted(required):
            content = result.changed.get(role, current.get(role))
            if content is None:
                continue
            listed = snapshot.signed.meta.get(role)
            if listed is None:
                raise BadSnapshotError(f"snapshot does not list {role}")
            listed.verify(content, role)
    except BadSnapshotError:
        raise
    except TrustError as exc:
        raise BadSnapshotError(str(exc)) from exc
