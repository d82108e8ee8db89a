"""Notation trust policies (Notary Project trust-store-trust-policy specification, version 1.0).

A document lists statements::

    {"version": "1.0",
     "trustPolicies": [{
        "name": "acme-images",
        "registryScopes": ["hub.example/acme/app"],          # or ["*"], the global scope
        "signatureVerification": {"level": "strict", "override": {"expiry": "log"}},
        "trustStores": ["ca:acme"],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, O=acme"]}]}  # or ["*"]

The statement for an artifact is the one whose scopes hold its repository URI exactly, else
the global one, else none (the artifact is untrusted). A verification level decides, for each
validation, whether a failure is enforced (verification fails) or logged:

    level        integrity authenticity authenticTimestamp expiry  revocation
    strict       enforce   enforce      enforce            enforce enforce
    permissive   enforce   enforce      log                log     log
    audit        enforce   log          log                log     log
    skip         (nothing is verified)

`override` changes one level's actions (not integrity; `revocation` may also be `skip`).

Scope: the document model and its checks; verification lives in `trust.sigs.notation`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from trust.sigs.errors import TrustPolicyError

__all__ = [
    "AUTHENTICITY",
    "AUTHENTIC_TIMESTAMP",
    "ENFORCE",
    "EXPIRY",
    "INTEGRITY",
    "LOG",
    "REVOCATION",
    "SKIP",
    "TrustPolicyDocument",
    "TrustPolicyStatement",
    "VerificationLevel",
    "subject_matches",
]

INTEGRITY = "integrity"
AUTHENTICITY = "authenticity"
AUTHENTIC_TIMESTAMP = "authenticTimestamp"
EXPIRY = "expiry"
REVOCATION = "revocation"
ENFORCE = "enforce"
LOG = "log"
SKIP = "skip"

_LEVELS: dict[str, dict[str, str]] = {
    "strict": {
        INTEGRITY: ENFORCE,
        AUTHENTICITY: ENFORCE,
        AUTHENTIC_TIMESTAMP: ENFORCE,
        EXPIRY: ENFORCE,
        REVOCATION: ENFORCE,
    },
    "permissive": {
        INTEGRITY: ENFORCE,
        AUTHENTICITY: ENFORCE,
        AUTHENTIC_TIMESTAMP: LOG,
        EXPIRY: LOG,
        REVOCATION: LOG,
    },
    "audit": {
        INTEGRITY: ENFORCE,
        AUTHENTICITY: LOG,
        AUTHENTIC_TIMESTAMP: LOG,
        EXPIRY: LOG,
        REVOCATION: LOG,
    },
    "skip": {
        INTEGRITY: SKIP,
        AUTHENTICITY: SKIP,
        AUTHENTIC_TIMESTAMP: SKIP,
        EXPIRY: SKIP,
        REVOCATION: SKIP,
    },
}
_OVERRIDABLE = {
    AUTHENTICITY: (ENFORCE, LOG),
    AUTHENTIC_TIMESTAMP: (ENFORCE, LOG),
    EXPIRY: (ENFORCE, LOG),
    REVOCATION: (ENFORCE, LOG, SKIP),
}
_REQUIRED_RDNS = ("C", "ST", "O")
_STORE_TYPES = ("ca", "signingAuthority")


@dataclass(frozen=True)
class VerificationLevel:
    """A named level and what it does with each validation's failure."""

    name: str
    actions: Mapping[str, str]

    @classmethod
    def from_dict(cls, document: Any) -> VerificationLevel:
        """Parse `signatureVerification`.

        Raises:
            TrustPolicyError: an unknown level, or an override the specification forbids.
        """
        if not isinstance(document, dict) or document.get("level") not in _LEVELS:
            raise TrustPolicyError(
                "signatureVerification.level must be strict, permissive, audit or skip"
            )
        name = document["level"]
        actions = dict(_LEVELS[name])
        override = document.get("override") or {}
        if not isinstance(override, dict):
            raise TrustPolicyError("signatureVerification.override must be an object")
        if override and name == "skip":
            raise TrustPolicyError("the skip level cannot be overridden")
        for validation, action in override.items():
            if action not in _OVERRIDABLE.get(validation, ()):
                raise TrustPolicyError(f"cannot override {validation!r} with {action!r}")
            actions[validation] = action
        return cls(name, actions)

    def action(self, validation: str) -> str:
        """`enforce`, `log` or `skip` for `validation`."""
        return self.actions[validation]


@dataclass(frozen=True)
class TrustPolicyStatement:
    """One entry of `trustPolicies`."""

    name: str
    registry_scopes: tuple[str, ...]
    level: VerificationLevel
    trust_stores: tuple[str, ...]
    trusted_identities: tuple[str, ...]

    @classmethod
    def from_dict(cls, document: Any) -> TrustPolicyStatement:
        """Parse and check one statement.

        Raises:
            TrustPolicyError: a field missing or breaking the specification's constraints.
        """
        if not isinstance(document, dict):
            raise TrustPolicyError("a trust policy statement must be an object")
        name = document.get("name")
        if not isinstance(name, str) or not name:
            raise TrustPolicyError("a trust policy statement needs a name")
        scopes = _strings(document.get("registryScopes"), f"{name}: registryScopes")
        if not scopes:
            raise TrustPolicyError(f"{name}: registryScopes must not be empty")
        if "*" in scopes and len(scopes) > 1:
            raise TrustPolicyError(f"{name}: the global scope '*' must stand alone")
        if any("*" in s for s in scopes if s != "*"):
            raise TrustPolicyError(f"{name}: a repository scope may not contain '*'")
        level = VerificationLevel.from_dict(document.get("signatureVerification"))
        stores = _strings(document.get("trustStores") or [], f"{name}: trustStores")
        identities = _strings(document.get("trustedIdentities") or [], f"{name}: trustedIdentities")
        if level.name == "skip":
            if stores or identities:
                raise TrustPolicyError(f"{name}: skip takes no trust stores or identities")
        elif not stores or not identities:
            raise TrustPolicyError(f"{name}: trustStores and trustedIdentities are required")
        for store in stores:
            kind, _, store_name = store.partition(":")
            if kind not in _STORE_TYPES or not store_name:
                raise TrustPolicyError(f"{name}: trust store {store!r} is not ca:NAME")
        if "*" in identities and len(identities) > 1:
            raise TrustPolicyError(f"{name}: the identity '*' must stand alone")
        parsed = [_parse_identity(i, name) for i in identities if i != "*"]
        for index, one in enumerate(parsed):
            for other in parsed[index + 1 :]:
                # Overlapping identities (one's RDNs all within the other's) make the policy
                # invalid: some certificate would match both.
                if one.items() <= other.items() or other.items() <= one.items():
                    raise TrustPolicyError(f"{name}: trusted identities overlap")
        return cls(name, tuple(scopes), level, tuple(stores), tuple(identities))

    def trusts_subject(self, certificate: x509.Certificate) -> bool:
        """Whether the signing certificate's subject is one of the trusted identities."""
        return any(
            identity == "*" or subject_matches(_parse_identity(identity, self.name), certificate)
            for identity in self.trusted_identities
        )


@dataclass(frozen=True)
class TrustPolicyDocument:
    """A whole `trustpolicy.json`."""

    statements: tuple[TrustPolicyStatement, ...]

    @classmethod
    def from_dict(cls, document: Any) -> TrustPolicyDocument:
        """Parse and check a document.

        Raises:
            TrustPolicyError: not version 1.0, duplicate names, a scope in two statements, or
                more than one global statement.
        """
        if not isinstance(document, dict) or document.get("version") != "1.0":
            raise TrustPolicyError('trust policy version must be "1.0"')
        raw = document.get("trustPolicies")
        if not isinstance(raw, list) or not raw:
            raise TrustPolicyError("trustPolicies must be a non-empty list")
        statements = tuple(TrustPolicyStatement.from_dict(item) for item in raw)
        names = [s.name for s in statements]
        if len(set(names)) != len(names):
            raise TrustPolicyError("trust policy statement names must be unique")
        scopes = [scope for s in statements for scope in s.registry_scopes]
        if len(set(scopes)) != len(scopes):
            raise TrustPolicyError("a registry scope may appear in only one statement")
        return cls(statements)

    def select(self, repository_uri: str) -> TrustPolicyStatement:
        """The statement for an artifact in `repository_uri` (exact scope, else global).

        Raises:
            TrustPolicyError: no statement applies (the artifact is untrusted).
        """
        for statement in self.statements:
            if repository_uri in statement.registry_scopes:
                return statement
        for statement in self.statements:
            if statement.registry_scopes == ("*",):
                return statement
        raise TrustPolicyError(f"no trust policy applies to {repository_uri}")

    def select_repository(self, repository: str) -> TrustPolicyStatement:
        """The statement for `repository` reached under any host name (exact scope, else global).

        A hub cannot know which host name its clients use (`localhost:5000`, a load balancer's
        name), so a scope `<host>/<repository>` applies to the repository whatever the host,
        as Docker Content Trust GUNs do.

        Raises:
            TrustPolicyError: no statement applies.
        """
        for statement in self.statements:
            if any(_without_host(scope) == repository for scope in statement.registry_scopes):
                return statement
        return self.select(repository)


def subject_matches(expected: Mapping[str, str], certificate: x509.Certificate) -> bool:
    """Whether every expected RDN appears with that value in the certificate's subject."""
    subject: dict[str, str] = {}
    for attribute in certificate.subject:
        subject[attribute.rfc4514_attribute_name] = str(attribute.value)
    return all(subject.get(key) == value for key, value in expected.items())


def _without_host(scope: str) -> str:
    """The repository part of a scope: Docker's rule, a first component with `.` or `:` or
    `localhost` is a registry host."""
    first, sep, rest = scope.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return rest
    return scope


def _parse_identity(identity: str, statement: str) -> dict[str, str]:
    """`x509.subject: C=US, ST=WA, O=acme` -> {"C": "US", "ST": "WA", "O": "acme"}."""
    prefix, sep, rest = identity.partition(":")
    if prefix.strip() != "x509.subject" or not sep:
        raise TrustPolicyError(f"{statement}: trusted identity {identity!r} is not x509.subject")
    rdns: dict[str, str] = {}
    for part in _split_unescaped(rest.strip()):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise TrustPolicyError(f"{statement}: bad RDN {part!r} in {identity!r}")
        rdns[key.strip()] = _unescape(value.strip())
    missing = [rdn for rdn in _REQUIRED_RDNS if rdn not in rdns]
    if missing:
        raise TrustPolicyError(f"{statement}: trusted identity {identity!r} lacks {missing}")
    return rdns


def _split_unescaped(text: str) -> list[str]:
    return [p for p in re.split(r"(?<!\\)[,;]", text) if p.strip()]


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TrustPolicyError(f"{what} must be a list of strings")
    return value
