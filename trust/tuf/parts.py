"""Building blocks of Notary metadata: times, role names, signatures, file metadata, role
entries and delegations.

Each block parses with `from_dict` (known fields popped, the rest kept in `unrecognized`) and
writes back with `to_dict`, so documents round-trip without changing their signed bytes.

Scope: pure; no I/O.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from trust.tuf.errors import BadHashError, BadLengthError, MalformedMetadataError
from trust.tuf.keys import PublicKey

__all__ = [
    "BASE_ROLES",
    "DelegatedRole",
    "Delegations",
    "FileMeta",
    "RootRole",
    "Signature",
    "format_time",
    "is_delegation_name",
    "parse_time",
]

BASE_ROLES = ("root", "targets", "snapshot", "timestamp")
_DELEGATION_CHARS = re.compile(r"[-a-z0-9_/]+")  # notary data.delegationRegexp
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
    if not _DELEGATION_CHARS.fullmatch(name):
        return False
    parts = name.split("/")
    return all(part not in ("", ".", "..") for part in parts)


def take(data: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    try:
        value = data.pop(key)
    except KeyError:
        raise MalformedMetadataError(f"{where}: missing {key!r}") from None
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)  # Go decodes numbers as float64; 1.0 is a valid version
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise MalformedMetadataError(f"{where}: {key!r} has the wrong type")
    return value


def as_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedMetadataError(f"{where}: expected an object")
    return dict(value)


def parse_key(data: Any, where: str) -> PublicKey:
    return PublicKey.from_dict(as_object(data, where))


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
        data = as_object(data, "signature")
        keyid = take(data, "keyid", str, "signature")
        method = take(data, "method", str, "signature").lower()
        try:
            sig = base64.b64decode(take(data, "sig", str, "signature"), validate=True)
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
        # Every entry of a targets role passes here: the usual shape, exactly an integer
        # length and string hashes, is recognised without the general path's copies.
        if type(data) is dict and len(data) == 2:
            length, hashes = data.get("length"), data.get("hashes")
            if (
                type(length) is int
                and type(hashes) is dict
                and all(type(value) is str for value in hashes.values())
            ):
                return cls(length, dict(hashes), {})
        data = as_object(data, where)
        length = take(data, "length", int, where)
        hashes = take(data, "hashes", dict, where)
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
        data = as_object(data, where)
        keyids = take(data, "keyids", list, where)
        threshold = take(data, "threshold", int, where)
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
        data = as_object(data, "delegated role")
        name = take(data, "name", str, "delegated role")
        keyids = take(data, "keyids", list, name)
        threshold = take(data, "threshold", int, name)
        paths = take(data, "paths", list, name) if "paths" in data else None
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
        data = as_object(data, "delegations")
        keys = take(data, "keys", dict, "delegations")
        roles = take(data, "roles", (list, type(None)), "delegations") or []
        return cls(
            {kid: parse_key(key, f"delegation key {kid}") for kid, key in keys.items()},
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
