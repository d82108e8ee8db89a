"""The Notary v1 TUF metadata model: Root, Targets (with delegations), Snapshot, Timestamp.

Wire format per Notary's `tuf/data` (not the TUF specification's): `_type` is capitalised
(`Root`, `Targets`, `Snapshot`, `Timestamp`), signatures carry `keyid`, `method` and `sig`
(base64), hashes are base64, and a document is `{"signed": {...}, "signatures": [...]}`.

Every `from_dict` pops the fields it knows and keeps the rest in `unrecognized`, and
`to_dict` writes them back, so re-serialising a parsed document reproduces the canonical bytes
its signatures cover (Notary verifies over the canonical form of the decoded `signed` object).

Scope: bytes -> objects -> bytes, structural validation, hashing, signing and signature
checks against given keys. No I/O; "now" is always a parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

from trust.tuf.canonicaljson import encode_canonical_document, loads
from trust.tuf.errors import (
    ExpiredMetadataError,
    MalformedMetadataError,
    SignatureError,
    ThresholdError,
)
from trust.tuf.keys import PrivateKey, PublicKey
from trust.tuf.parts import (
    BASE_ROLES,
    DelegatedRole,
    Delegations,
    FileMeta,
    RootRole,
    Signature,
    as_object,
    format_time,
    is_delegation_name,
    parse_key,
    parse_time,
    take,
)

__all__ = [
    "BASE_ROLES",
    "DelegatedRole",
    "Delegations",
    "FileMeta",
    "Metadata",
    "Root",
    "RootRole",
    "Signature",
    "Snapshot",
    "Targets",
    "Timestamp",
    "format_time",
    "is_delegation_name",
    "parse_time",
]


class _Signed:
    """Fields common to every role's `signed` object: `_type`, `version`, `expires`."""

    TYPE: ClassVar[str]

    def __init__(self, version: int, expires: str, unrecognized: dict[str, Any]) -> None:
        self.version = version
        self.expires = expires
        self.unrecognized = unrecognized

    @classmethod
    def _common(cls, data: Any) -> tuple[dict[str, Any], int, str]:
        data = as_object(data, cls.TYPE)
        kind = take(data, "_type", str, cls.TYPE)
        if kind != cls.TYPE:
            raise MalformedMetadataError(f"expected _type {cls.TYPE!r}, got {kind!r}")
        version = take(data, "version", int, cls.TYPE)
        if version < 1:
            raise MalformedMetadataError(f"{cls.TYPE}: version must be at least 1")
        expires = take(data, "expires", str, cls.TYPE)
        parse_time(expires)
        return data, version, expires

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        """Parse a `signed` object of this role type; every role class overrides this."""
        raise NotImplementedError

    def _common_dict(self) -> dict[str, Any]:
        return {"_type": self.TYPE, "version": self.version, "expires": self.expires}

    @property
    def expires_at(self) -> dt.datetime:
        """The expiry as an aware datetime."""
        return parse_time(self.expires)

    def is_expired(self, now: dt.datetime) -> bool:
        """Whether the metadata has expired at `now` (aware datetime)."""
        return self.expires_at <= now

    def check_expiry(self, now: dt.datetime, role: str) -> None:
        """Raise ExpiredMetadataError when expired at `now`."""
        if self.is_expired(now):
            raise ExpiredMetadataError(f"{role} metadata expired at {self.expires}")

    def to_dict(self) -> dict[str, Any]:
        """The `signed` object; every role class overrides this."""
        raise NotImplementedError


class Root(_Signed):
    """root.json: the keys and thresholds of the four top-level roles."""

    TYPE = "Root"

    def __init__(
        self,
        version: int,
        expires: str,
        keys: dict[str, PublicKey],
        roles: dict[str, RootRole],
        consistent_snapshot: bool = False,
        unrecognized: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, expires, unrecognized or {})
        self.keys = keys
        self.roles = roles
        self.consistent_snapshot = consistent_snapshot

    @classmethod
    def from_dict(cls, data: Any) -> Root:
        """Parse and structurally validate a root `signed` object (notary isValidRootStructure).

        Raises:
            MalformedMetadataError: wrong type, missing base role, threshold < 1, unknown key ID.
        """
        data, version, expires = cls._common(data)
        keys = take(data, "keys", dict, "Root")
        roles = take(data, "roles", dict, "Root")
        consistent = take(data, "consistent_snapshot", bool, "Root")
        root = cls(
            version,
            expires,
            {kid: parse_key(key, f"root key {kid}") for kid, key in keys.items()},
            {name: RootRole.from_dict(role, name) for name, role in roles.items()},
            consistent,
            data,
        )
        for name in BASE_ROLES:
            role = root.roles.get(name)
            if role is None:
                raise MalformedMetadataError(f"Root: missing {name} role")
            if role.threshold < 1:
                raise MalformedMetadataError(f"Root: invalid threshold for {name}")
            for keyid in role.keyids:
                if keyid not in root.keys:
                    raise MalformedMetadataError(f"Root: {name} lists unknown key {keyid}")
        return root

    def to_dict(self) -> dict[str, Any]:
        """The `signed` object."""
        return {
            **self._common_dict(),
            "keys": {kid: key.to_dict() for kid, key in self.keys.items()},
            "roles": {name: role.to_dict() for name, role in self.roles.items()},
            "consistent_snapshot": self.consistent_snapshot,
            **self.unrecognized,
        }

    def role_keys(self, role: str) -> tuple[dict[str, PublicKey], int]:
        """The keys (by ID) and threshold of a top-level role.

        Raises:
            MalformedMetadataError: the role is not listed.
        """
        entry = self.roles.get(role)
        if entry is None:
            raise MalformedMetadataError(f"root lists no {role} role")
        return {kid: self.keys[kid] for kid in entry.keyids if kid in self.keys}, entry.threshold


class Targets(_Signed):
    """targets.json or a delegated role (`targets/...`): signed targets and delegations."""

    TYPE = "Targets"

    def __init__(
        self,
        version: int,
        expires: str,
        targets: dict[str, FileMeta] | None = None,
        delegations: Delegations | None = None,
        unrecognized: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, expires, unrecognized or {})
        self.targets = targets if targets is not None else {}
        self.delegations = delegations

    @classmethod
    def from_dict(cls, data: Any) -> Targets:
        """Parse a targets `signed` object."""
        data, version, expires = cls._common(data)
        targets = take(data, "targets", dict, "Targets")
        delegations = data.pop("delegations", None)
        return cls(
            version,
            expires,
            {name: FileMeta.from_dict(meta, name) for name, meta in targets.items()},
            Delegations.from_dict(delegations) if delegations is not None else None,
            data,
        )

    def to_dict(self) -> dict[str, Any]:
        """The `signed` object."""
        out = {
            **self._common_dict(),
            "targets": {name: meta.to_dict() for name, meta in self.targets.items()},
        }
        if self.delegations is not None:
            out["delegations"] = self.delegations.to_dict()
        out.update(self.unrecognized)
        return out


class _MetaListing(_Signed):
    """Snapshot and Timestamp: a `meta` map of role name -> FileMeta."""

    def __init__(
        self,
        version: int,
        expires: str,
        meta: dict[str, FileMeta],
        unrecognized: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(version, expires, unrecognized or {})
        self.meta = meta

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        """Parse a snapshot or timestamp `signed` object."""
        data, version, expires = cls._common(data)
        meta = take(data, "meta", dict, cls.TYPE)
        return cls(
            version, expires, {name: FileMeta.from_dict(m, name) for name, m in meta.items()}, data
        )

    def to_dict(self) -> dict[str, Any]:
        """The `signed` object."""
        return {
            **self._common_dict(),
            "meta": {name: meta.to_dict() for name, meta in self.meta.items()},
            **self.unrecognized,
        }


class Snapshot(_MetaListing):
    """snapshot.json: hashes and lengths of root, targets and every delegated role."""

    TYPE = "Snapshot"


class Timestamp(_MetaListing):
    """timestamp.json: hashes and length of the current snapshot."""

    TYPE = "Timestamp"


_TYPES: dict[str, type[_Signed]] = {t.TYPE: t for t in (Root, Targets, Snapshot, Timestamp)}
SignedT = TypeVar("SignedT", Root, Targets, Snapshot, Timestamp)


class Metadata(Generic[SignedT]):
    """A signed document: the typed `signed` object plus its signatures."""

    def __init__(
        self,
        signed: SignedT,
        signatures: list[Signature] | None = None,
        unrecognized: dict[str, Any] | None = None,
    ) -> None:
        self.signed: SignedT = signed
        self.signatures = signatures if signatures is not None else []
        self.unrecognized = unrecognized or {}

    @classmethod
    def from_bytes(cls, data: bytes, expected: type[SignedT] | None = None) -> Metadata[SignedT]:
        """Parse a document; `expected` (Root, Targets, ...) enforces its `_type`.

        Raises:
            MalformedMetadataError: not JSON, wrong shape or wrong type.
        """
        try:
            document = loads(data)
        except ValueError as exc:
            raise MalformedMetadataError(f"metadata is not JSON: {exc}") from exc
        return cls.from_document(document, expected)

    @classmethod
    def from_document(
        cls, document: Any, expected: type[SignedT] | None = None
    ) -> Metadata[SignedT]:
        """Parse a decoded document (what `loads` returned); see `from_bytes`.

        Raises:
            MalformedMetadataError: wrong shape or wrong type.
        """
        document = as_object(document, "metadata")
        signed = as_object(document.pop("signed", None), "signed")
        signatures = document.pop("signatures", None)
        if not isinstance(signatures, list):
            raise MalformedMetadataError("metadata: signatures must be a list")
        kind = signed.get("_type")
        signed_type = _TYPES.get(kind) if isinstance(kind, str) else None
        if signed_type is None:
            raise MalformedMetadataError(f"unknown metadata _type {kind!r}")
        if expected is not None and signed_type is not expected:
            raise MalformedMetadataError(f"expected {expected.TYPE}, got {kind}")
        return cls(
            signed_type.from_dict(signed),
            [Signature.from_dict(sig) for sig in signatures],
            document,
        )

    def signed_bytes(self) -> bytes:
        """The canonical bytes of `signed`: what signatures cover."""
        return encode_canonical_document(self.signed.to_dict())

    def to_bytes(self) -> bytes:
        """Serialise: `{"signed":<canonical>,"signatures":[...]}` in one line."""
        rest = {"signatures": [sig.to_dict() for sig in self.signatures], **self.unrecognized}
        return b'{"signed":' + self.signed_bytes() + b"," + encode_canonical_document(rest)[1:]

    def sign(self, key: PrivateKey, as_key: PublicKey | None = None) -> Signature:
        """Add (or replace) the signature by `key`.

        Args:
            key: the private key to sign with.
            as_key: the public key the role lists for it when that differs from the bare key
                (the root certificate key); the signature carries its key ID.

        Returns:
            The new signature.
        """
        keyid = (as_key or key.public_key()).key_id
        signature = Signature(keyid, key.method, key.sign(self.signed_bytes()))
        self.signatures = [sig for sig in self.signatures if sig.keyid != keyid]
        self.signatures.append(signature)
        return signature

    def valid_signers(
        self, keys: Mapping[str, PublicKey], message: bytes | None = None
    ) -> set[str]:
        """Key IDs among `keys` whose signatures verify.

        Args:
            keys: the keys that may sign, by ID.
            message: what the signatures cover when the caller has it: the canonical bytes of
                the decoded `signed` object (what Notary verifies). Else `signed_bytes()`.

        Raises:
            SignatureError: a key is listed under an ID that is not its own.
        """
        if message is None:
            message = self.signed_bytes()
        valid: set[str] = set()
        for sig in self.signatures:
            key = keys.get(sig.keyid)
            if key is None:
                continue
            if key.key_id != sig.keyid:
                raise SignatureError(f"key listed as {sig.keyid} has ID {key.key_id}")
            if key.verify(sig.method, sig.sig, message):
                valid.add(sig.keyid)
        return valid

    def verify_threshold(
        self,
        keys: Mapping[str, PublicKey],
        threshold: int,
        role: str,
        message: bytes | None = None,
    ) -> None:
        """Check that at least `threshold` distinct `keys` signed (notary VerifySignatures);
        `message` as for `valid_signers`.

        Raises:
            ThresholdError: no signatures, threshold < 1, or too few valid signatures.
        """
        if not self.signatures:
            raise ThresholdError(f"{role}: no signatures")
        if threshold < 1:
            raise ThresholdError(f"{role}: invalid threshold {threshold}")
        valid = self.valid_signers(keys, message)
        if len(valid) < threshold:
            raise ThresholdError(f"{role}: {len(valid)} valid signatures, threshold is {threshold}")
