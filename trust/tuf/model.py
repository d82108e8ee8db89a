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

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from trust.tuf.canonicaljson import encode_canonical, loads
from trust.tuf.errors import (
    BadHashError,
    BadLengthError,
    ExpiredMetadataError,
    MalformedMetadataError,
    SignatureError,
    ThresholdError,
)
from trust.tuf.keys import PrivateKey, PublicKey

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

BASE_ROLES = ("root", "targets", "snapshot", "timestamp")
_DELEGATION_CHARS = re.compile(r"^[-a-z0-9_/]+$")  # notary data.delegationRegexp
_TIME_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$"
)


def parse_time(text: str) -> dt.datetime:
    """Parse an RFC 3339 time as Go writes it (nanoseconds allowed, truncated to µs).

    Raises:
        MalformedMetadataError: not an RFC 3339 time.
    """
    match = _TIME_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise MalformedMetadataError(f"invalid time {text!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    if zone in ("Z", "z"):
        tz = dt.UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        tz = dt.timezone(sign * offset)
    try:
        return dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micros, tz
        )
    except ValueError as exc:
        raise MalformedMetadataError(f"invalid time {text!r}: {exc}") from exc


def format_time(when: dt.datetime) -> str:
    """Format a timezone-aware time as Go's RFC3339Nano in UTC (trailing zeros dropped)."""
    when = when.astimezone(dt.UTC)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    if when.microsecond:
        text += ("." + f"{when.microsecond:06d}").rstrip("0")
    return text + "Z"


def is_delegation_name(name: str) -> bool:
    """Notary's `data.IsDelegation`: `targets/...`, `[-a-z0-9_/]`, clean path, < 256 chars."""
    if not name.startswith("targets/") or len(name) >= 256:
        return False
    if not _DELEGATION_CHARS.match(name):
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts)


def _pop(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    try:
        value = data.pop(key)
    except KeyError:
        raise MalformedMetadataError(f"{where}: missing {key!r}") from None
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)  # Go decodes numbers as float64; 1.0 is a valid version
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise MalformedMetadataError(f"{where}: {key!r} has the wrong type")
    return value


def _as_dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMetadataError(f"{where}: expected an object")
    return dict(value)


def _parse_key(data: Any, where: str) -> PublicKey:
    return PublicKey.from_dict(_as_dict(data, where))


@dataclass(slots=True)
class Signature:
    """One signature: the signing key's ID, the method and the raw signature bytes."""

    keyid: str
    method: str
    sig: bytes
    unrecognized: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Signature:
        """Parse `{"keyid","method","sig"}`; the method is lower-cased as Notary does."""
        data = _as_dict(data, "signature")
        keyid = _pop(data, "keyid", str, "signature")
        method = _pop(data, "method", str, "signature").lower()
        try:
            sig = base64.b64decode(_pop(data, "sig", str, "signature"), validate=True)
        except ValueError as exc:
            raise MalformedMetadataError(f"signature: bad base64: {exc}") from exc
        return cls(keyid, method, sig, data)

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "keyid": self.keyid,
            "method": self.method,
            "sig": base64.b64encode(self.sig).decode(),
            **self.unrecognized,
        }


@dataclass(slots=True)
class FileMeta:
    """Length and hashes of a target or metadata file (`hashes` values are base64)."""

    length: int
    hashes: dict[str, str]
    unrecognized: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str = "file meta") -> FileMeta:
        """Parse `{"length","hashes"[,"custom"]}`."""
        data = _as_dict(data, where)
        length = _pop(data, "length", int, where)
        hashes = _pop(data, "hashes", dict, where)
        if not all(isinstance(v, str) for v in hashes.values()):
            raise MalformedMetadataError(f"{where}: hashes must be base64 strings")
        return cls(length, dict(hashes), data)

    @classmethod
    def for_bytes(cls, data: bytes, algorithms: Iterable[str] = ("sha256", "sha512")) -> FileMeta:
        """Describe `data`: its length and its hashes under `algorithms`."""
        hashes = {
            name: base64.b64encode(hashlib.new(name, data).digest()).decode() for name in algorithms
        }
        return cls(len(data), hashes)

    @classmethod
    def for_digest(cls, sha256_hex: str, length: int) -> FileMeta:
        """A target entry for a manifest known by its sha256 hex digest and length."""
        return cls(length, {"sha256": base64.b64encode(bytes.fromhex(sha256_hex)).decode()})

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {"length": self.length, "hashes": dict(self.hashes), **self.unrecognized}

    def digest(self, algorithm: str = "sha256") -> bytes | None:
        """The raw digest for `algorithm`, or None when not listed."""
        value = self.hashes.get(algorithm)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except ValueError as exc:
            raise MalformedMetadataError(f"bad base64 {algorithm} hash: {exc}") from exc

    def verify(self, data: bytes, name: str) -> None:
        """Check `data` against the length and every supported hash listed.

        Raises:
            BadLengthError: the length differs.
            BadHashError: a listed sha256/sha512 differs, or none of them is listed.
        """
        if len(data) != self.length:
            raise BadLengthError(f"{name}: length {len(data)} != expected {self.length}")
        checked = 0
        for algorithm in ("sha256", "sha512"):
            expected = self.digest(algorithm)
            if expected is None:
                continue
            if not hmac.compare_digest(hashlib.new(algorithm, data).digest(), expected):
                raise BadHashError(f"{name}: {algorithm} mismatch")
            checked += 1
        if not checked:
            raise BadHashError(f"{name}: no sha256 or sha512 hash listed")


@dataclass(slots=True)
class RootRole:
    """A top-level role's key IDs and signature threshold, as listed in root.json."""

    keyids: list[str]
    threshold: int
    unrecognized: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, where: str = "role") -> RootRole:
        """Parse `{"keyids","threshold"}`."""
        data = _as_dict(data, where)
        keyids = _pop(data, "keyids", list, where)
        threshold = _pop(data, "threshold", int, where)
        return cls(list(keyids), threshold, data)

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {"keyids": list(self.keyids), "threshold": self.threshold, **self.unrecognized}


@dataclass(slots=True)
class DelegatedRole:
    """A delegation entry: role name, key IDs, threshold and path prefixes."""

    name: str
    keyids: list[str]
    threshold: int
    paths: list[str] | None = None
    unrecognized: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> DelegatedRole:
        """Parse `{"name","keyids","threshold"[,"paths"]}`."""
        data = _as_dict(data, "delegated role")
        name = _pop(data, "name", str, "delegated role")
        keyids = _pop(data, "keyids", list, name)
        threshold = _pop(data, "threshold", int, name)
        paths = _pop(data, "paths", list, name) if "paths" in data else None
        return cls(name, list(keyids), threshold, paths, data)

    def to_dict(self) -> dict[str, Any]:
        """The wire form (`paths` omitted when None, as Go's omitempty would when unset)."""
        out: dict[str, Any] = {"name": self.name, "keyids": list(self.keyids)}
        out["threshold"] = self.threshold
        if self.paths is not None:
            out["paths"] = list(self.paths)
        out.update(self.unrecognized)
        return out

    def covers(self, target: str) -> bool:
        """Notary's `CheckPaths`: some path is a prefix of `target` ("" allows all)."""
        return any(target.startswith(prefix) for prefix in self.paths or ())


@dataclass(slots=True)
class Delegations:
    """The `delegations` object of a targets role: keys and ordered roles."""

    keys: dict[str, PublicKey] = field(default_factory=dict)
    roles: list[DelegatedRole] = field(default_factory=list)
    unrecognized: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Delegations:
        """Parse `{"keys","roles"}`."""
        data = _as_dict(data, "delegations")
        keys = _pop(data, "keys", dict, "delegations")
        roles = _pop(data, "roles", (list, type(None)), "delegations") or []
        return cls(
            {kid: _parse_key(key, f"delegation key {kid}") for kid, key in keys.items()},
            [DelegatedRole.from_dict(role) for role in roles],
            data,
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire form."""
        return {
            "keys": {kid: key.to_dict() for kid, key in self.keys.items()},
            "roles": [role.to_dict() for role in self.roles],
            **self.unrecognized,
        }

    def role(self, name: str) -> DelegatedRole | None:
        """The delegation entry named `name`, if any."""
        return next((role for role in self.roles if role.name == name), None)


class _Signed:
    """Fields common to every role's `signed` object: `_type`, `version`, `expires`."""

    TYPE: ClassVar[str]

    def __init__(self, version: int, expires: str, unrecognized: dict[str, Any]) -> None:
        self.version = version
        self.expires = expires
        self.unrecognized = unrecognized

    @classmethod
    def _common(cls, data: Any) -> tuple[dict[str, Any], int, str]:
        data = _as_dict(data, cls.TYPE)
        kind = _pop(data, "_type", str, cls.TYPE)
        if kind != cls.TYPE:
            raise MalformedMetadataError(f"expected _type {cls.TYPE!r}, got {kind!r}")
        version = _pop(data, "version", int, cls.TYPE)
        if version < 1:
            raise MalformedMetadataError(f"{cls.TYPE}: version must be at least 1")
        expires = _pop(data, "expires", str, cls.TYPE)
        parse_time(expires)
        return data, version, expires

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
        keys = _pop(data, "keys", dict, "Root")
        roles = _pop(data, "roles", dict, "Root")
        consistent = _pop(data, "consistent_snapshot", bool, "Root")
        root = cls(
            version,
            expires,
            {kid: _parse_key(key, f"root key {kid}") for kid, key in keys.items()},
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
        targets = _pop(data, "targets", dict, "Targets")
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
        meta = _pop(data, "meta", dict, cls.TYPE)
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
        self.signed = signed
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
        document = _as_dict(document, "metadata")
        signed = _as_dict(document.pop("signed", None), "signed")
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
            signed_type.from_dict(signed),  # type: ignore[arg-type]
            [Signature.from_dict(sig) for sig in signatures],
            document,
        )

    def signed_bytes(self) -> bytes:
        """The canonical bytes of `signed`: what signatures cover."""
        return encode_canonical(self.signed.to_dict())

    def to_bytes(self) -> bytes:
        """Serialise: `{"signed":<canonical>,"signatures":[...]}` in one line."""
        rest = {"signatures": [sig.to_dict() for sig in self.signatures], **self.unrecognized}
        return b'{"signed":' + self.signed_bytes() + b"," + encode_canonical(rest)[1:]

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

    def valid_signers(self, keys: Mapping[str, PublicKey]) -> set[str]:
        """Key IDs among `keys` whose signatures verify.

        Raises:
            SignatureError: a key is listed under an ID that is not its own.
        """
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

    def verify_threshold(self, keys: Mapping[str, PublicKey], threshold: int, role: str) -> None:
        """Check that at least `threshold` distinct `keys` signed (notary VerifySignatures).

        Raises:
            ThresholdError: no signatures, threshold < 1, or too few valid signatures.
        """
        if not self.signatures:
            raise ThresholdError(f"{role}: no signatures")
        if threshold < 1:
            raise ThresholdError(f"{role}: invalid threshold {threshold}")
        valid = self.valid_signers(keys)
        if len(valid) < threshold:
            raise ThresholdError(f"{role}: {len(valid)} valid signatures, threshold is {threshold}")
