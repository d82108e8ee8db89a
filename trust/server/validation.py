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
from typing import Any

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
from trust.server.store.base import MetaUpdate, StoredMeta
from trust.tuf.canonicaljson import encode_canonical_document, loads
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


@dataclass(slots=True)
class _Upload:
    """An uploaded document, decoded once: its bytes, its JSON and its version."""

    data: bytes
    document: Any
    version: int


def _decode(data: bytes) -> _Upload:
    try:
        document = loads(data)
        version = document["signed"]["version"]
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedJSONError() from exc
    if isinstance(version, bool) or not isinstance(version, int | float):
        raise MalformedJSONError()
    return _Upload(data, document, int(version))


def _signed_bytes(upload: _Upload) -> bytes:
    """What the upload's signatures cover: the canonical form of its decoded `signed` object,
    as Notary verifies (the parsed document's own re-encoding gives the same bytes, slower)."""
    return encode_canonical_document(upload.document["signed"])


def _parse(upload: _Upload, kind: type, error: type[UpdateValidationError], role: str) -> Metadata:
    try:
        return Metadata.from_document(upload.document, kind)
    except TrustError as exc:
        raise error(f"{role}: {exc}") from exc


def validate_update(
    gun: str,
    uploads: Mapping[str, bytes],
    current: Mapping[str, StoredMeta],
    now: dt.datetime,
) -> ValidatedUpdate:
    """Validate an update against the stored state.

    Args:
        gun: the repository.
        uploads: role -> uploaded bytes (role names already normalised).
        current: role -> the currently stored document.
        now: reference time for expiry and certificate checks.

    Returns:
        What to store, and whether the server must sign the snapshot.

    Raises:
        TrustServerError: the matching Notary error (INVALID_UPDATE, VERSION, ...).
    """
    decoded = {role: _decode(data) for role, data in uploads.items() if role != "timestamp"}
    result = ValidatedUpdate([], _validate_root(gun, decoded, current, now), True)
    if "root" in decoded:
        upload = decoded["root"]
        result.updates.append(MetaUpdate("root", upload.version, upload.data))
        result.changed["root"] = upload.data

    targets_roles = sorted(
        (r for r in decoded if r == "targets" or is_delegation_name(r)),
        key=lambda name: (name.count("/"), name),
    )
    accepted: dict[str, Metadata[Targets]] = {}
    for role in targets_roles:
        upload = decoded[role]
        _check_newer(role, upload.version, current)
        accepted[role] = _validate_targets(role, upload, result.root, accepted, current, now)
        result.updates.append(MetaUpdate(role, upload.version, upload.data))
        result.changed[role] = upload.data

    if "snapshot" in decoded:
        upload = decoded["snapshot"]
        _check_newer("snapshot", upload.version, current)
        _validate_snapshot(upload, result, current, now)
        result.updates.append(MetaUpdate("snapshot", upload.version, upload.data))
        result.needs_snapshot = False
    return result


def _check_newer(role: str, version: int, current: Mapping[str, StoredMeta]) -> None:
    if role in current and version <= current[role].version:
        raise OldVersionError(f"{role} version {version} is not above the current one")


def _validate_root(
    gun: str, uploads: Mapping[str, _Upload], current: Mapping[str, StoredMeta], now: dt.datetime
) -> Metadata[Root]:
    stored = Metadata.from_bytes(current["root"].data, Root) if "root" in current else None
    if "root" not in uploads:
        if stored is None:
            raise UpdateValidationError("no pre-existing root and no root provided in update.")
        return stored
    current_version = stored.signed.version if stored is not None else 0
    new_version = uploads["root"].version
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
    role: str, accepted: Mapping[str, Metadata[Targets]], current: Mapping[str, StoredMeta]
) -> Metadata[Targets] | None:
    if role in accepted:
        return accepted[role]
    if role in current:
        return Metadata.from_bytes(current[role].data, Targets)
    return None


def _effective_paths(
    role: str, accepted: Mapping[str, Metadata[Targets]], current: Mapping[str, StoredMeta]
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
    upload: _Upload,
    root: Metadata[Root],
    accepted: Mapping[str, Metadata[Targets]],
    current: Mapping[str, StoredMeta],
    now: dt.datetime,
) -> Metadata[Targets]:
    targets = _parse(upload, Targets, BadTargetsError, role)
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
        targets.verify_threshold(keys, threshold, role, _signed_bytes(upload))
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
    upload: _Upload, result: ValidatedUpdate, current: Mapping[str, StoredMeta], now: dt.datetime
) -> None:
    snapshot = _parse(upload, Snapshot, BadSnapshotError, "snapshot")
    try:
        keys, threshold = result.root.signed.role_keys("snapshot")
        snapshot.verify_threshold(keys, threshold, "snapshot", _signed_bytes(upload))
        snapshot.signed.check_expiry(now, "snapshot")
        required = {"root", "targets", *result.changed}
        for role in sorted(required):
            stored = current.get(role)
            content = result.changed.get(role, stored.data if stored is not None else None)
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
