"""The signature policy: which formats count and which signers are trusted, for one scope.

One policy object answers "is this manifest signed?" for the hub's pull gate (and is meant to
answer it for the client and the admission endpoint the same way). The caller fetches the
signature artifacts attached to a digest (the `.sig` tag, the referrers) and, for Docker Content
Trust, asks its own TUF verification; the policy verifies each artifact with the verifier of its
format and decides.

A policy document (stored per repository or namespace, or read from a policy file)::

    {"formats": ["cosign", "notation", "dct"],     # any one accepted signature suffices
     "cosign": {"keys": ["-----BEGIN PUBLIC KEY-----..."],
                "identities": ["hub.example/acme/app"],  # optional docker-reference match
                "annotations": {"team": "blue"},        # optional, must be in the payload
                "keyless": {"fulcio": ["-----BEGIN CERTIFICATE-----..."],  # roots, intermediates
                            "rekor": ["-----BEGIN PUBLIC KEY-----..."],
                            "identities": [{"issuer": "https://token.actions...",
                                            "subject": "https://github.com/acme/app/..."},
                                           # or patterns that must match somewhere:
                                           {"issuer": "https://token.actions...",
                                            "subjectRegExp": "^https://github.com/acme/"}]}},
     "notation": {"trustPolicy": {...Notation trustpolicy.json...},
                  "trustStores": {"ca:acme": {"certificates": "-----BEGIN CERTIFICATE-----...",
                                              "revoked": ["<sha256 hex of a certificate>"]}}},
     "platforms": true}   # an index also counts when every platform manifest is signed

`version` is the SHA-256 of the canonical document, so a cache keyed by (digest, version)
forgets every verdict the moment a key or certificate is removed.

Scope: pure; artifacts and "now" are parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trust.sigs.bundle import (
    BUNDLE_MEDIA_TYPES,
    SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    verify_bundle_manifest,
)
from trust.sigs.cosign import SIMPLE_SIGNING_MEDIA_TYPE, verify_signature_manifest
from trust.sigs.errors import (
    MalformedSignatureError,
    SignatureVerificationError,
    TrustPolicyError,
)
from trust.sigs.keyless import KeylessIdentity, KeylessTrust
from trust.sigs.keys import VerifyingKey
from trust.sigs.notation import NOTATION_ARTIFACT_TYPE, TargetArtifact, verify_notation_manifest
from trust.sigs.notation_policy import TrustPolicyDocument
from trust.sigs.verdict import COSIGN, DCT, FORMATS, NOTATION, Verdict
from trust.sigs.x509store import TrustStore, load_pem_certificates

__all__ = [
    "COSIGN_SIG_TAG",
    "NOTATION_SIGNATURE",
    "SIGSTORE_BUNDLE",
    "Decision",
    "SignatureArtifact",
    "SignaturePolicy",
    "Subject",
    "artifact_kind",
    "is_signature_artifact",
]

logger = logging.getLogger(__name__)

COSIGN_SIG_TAG = "cosign-sig-tag"
SIGSTORE_BUNDLE = "sigstore-bundle"
NOTATION_SIGNATURE = "notation-signature"


@dataclass(frozen=True)
class Subject:
    """The manifest being checked.

    Attributes:
        repository: the repository name (`acme/app`).
        digest: the manifest digest.
        media_type: its media type.
        size: its size in bytes.
        manifest: its bytes (Ed25519 message signatures sign them directly).
        host: the registry host the client named, when known; Notation trust policy scopes
            are matched on `host/repository`, or on the repository under any host when None.
    """

    repository: str
    digest: str
    media_type: str
    size: int
    manifest: bytes | None = None
    host: str | None = None


@dataclass(frozen=True)
class SignatureArtifact:
    """A signature artifact the caller fetched for the subject, with the blobs it names.

    Attributes:
        kind: `COSIGN_SIG_TAG`, `SIGSTORE_BUNDLE` or `NOTATION_SIGNATURE`.
        manifest: the artifact manifest bytes.
        blobs: its layer blobs by digest.
    """

    kind: str
    manifest: bytes
    blobs: Mapping[str, bytes]


_IMAGE_CONFIG_TYPES = frozenset(
    {"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}
)
_SIGNATURE_LAYER_TYPES = frozenset(
    {*BUNDLE_MEDIA_TYPES, "application/jose+json", "application/cose"}
)


def is_signature_artifact(manifest: bytes) -> bool:
    """Whether a manifest is a signature (served ungated: signatures are read to verify).

    A cosign `.sig` manifest (every layer a simple-signing payload), or a Sigstore bundle or
    Notation signature artifact whose config is not an image config and whose layers are all
    bundles or envelopes. Nothing that passes can be run as an image, so an image disguised
    as a signature is still gated.
    """
    try:
        document = json.loads(manifest)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    layers = document.get("layers")
    config = document.get("config")
    if not isinstance(layers, list) or not layers or not isinstance(config, dict):
        return False
    types = {layer.get("mediaType") if isinstance(layer, dict) else None for layer in layers}
    if types == {SIMPLE_SIGNING_MEDIA_TYPE}:
        return True
    kind = artifact_kind(document.get("artifactType") or config.get("mediaType"))
    return (
        kind is not None
        and config.get("mediaType") not in _IMAGE_CONFIG_TYPES
        and types <= _SIGNATURE_LAYER_TYPES
    )


def artifact_kind(artifact_type: str | None) -> str | None:
    """The kind of a referrer by its `artifactType` (None for anything not a signature)."""
    return {
        SIGSTORE_BUNDLE_ARTIFACT_TYPE: SIGSTORE_BUNDLE,
        NOTATION_ARTIFACT_TYPE: NOTATION_SIGNATURE,
    }.get(artifact_type or "")


@dataclass(frozen=True)
class Decision:
    """Whether the subject counts as signed, the verdicts that say so, and what failed."""

    signed: bool
    verdicts: tuple[Verdict, ...] = ()
    failures: tuple[str, ...] = ()

    def explain(self) -> str:
        """One line for the refused client: what was accepted, or what was missing."""
        if self.signed:
            return "signed by " + ", ".join(f"{v.format} ({v.signer})" for v in self.verdicts)
        return "; ".join(self.failures) or "no signature"


@dataclass(frozen=True)
class SignaturePolicy:
    """Which formats count and whom each trusts.

    Attributes:
        formats: the formats whose signatures count (`dct`, `cosign`, `notation`).
        cosign_keys: trusted keys for cosign signatures and Sigstore bundles.
        cosign_identities: docker-references one of which a cosign payload must claim.
        cosign_annotations: annotations a cosign payload must carry.
        cosign_keyless: the trust root for keyless Sigstore bundles (None: refused).
        notation_policy: the Notation trust policy.
        notation_stores: the trust stores it names, by name.
        platforms: whether an index counts when every platform manifest is signed.
        document: the canonical document this policy was read from.
    """

    formats: frozenset[str]
    cosign_keys: tuple[VerifyingKey, ...] = ()
    cosign_identities: tuple[str, ...] = ()
    cosign_annotations: Mapping[str, str] = field(default_factory=dict)
    cosign_keyless: KeylessTrust | None = None
    notation_policy: TrustPolicyDocument | None = None
    notation_stores: Mapping[str, TrustStore] = field(default_factory=dict)
    platforms: bool = False
    document: Mapping[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def version(self) -> str:
        """SHA-256 of the canonical document: changes whenever any trusted material does."""
        canonical = json.dumps(self.document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    @classmethod
    def from_dict(cls, document: Any) -> SignaturePolicy:
        """Parse and check a policy document (shape in the module docstring).

        Raises:
            TrustPolicyError: unknown formats or fields, a format without the material it
                needs, or material that does not load.
        """
        if not isinstance(document, dict):
            raise TrustPolicyError("a signature policy must be a JSON object")
        unknown = set(document) - {"formats", "cosign", "notation", "platforms"}
        if unknown:
            raise TrustPolicyError(f"unknown signature policy fields {sorted(unknown)}")
        formats = document.get("formats")
        if not isinstance(formats, list) or not formats or any(f not in FORMATS for f in formats):
            raise TrustPolicyError(f"formats must be a non-empty list of {', '.join(FORMATS)}")
        policy: dict[str, Any] = {"formats": frozenset(formats)}
        if COSIGN in formats:
            policy.update(_cosign(document.get("cosign")))
        if NOTATION in formats:
            policy.update(_notation(document.get("notation")))
        platforms = document.get("platforms", False)
        if not isinstance(platforms, bool):
            raise TrustPolicyError("platforms must be true or false")
        return cls(**policy, platforms=platforms, document=document)

    def decide(
        self,
        subject: Subject,
        artifacts: Sequence[SignatureArtifact],
        now: dt.datetime,
        *,
        dct: Verdict | None = None,
    ) -> Decision:
        """Whether `subject` is signed in a format this policy counts, by a signer it trusts.

        Args:
            subject: the manifest being checked.
            artifacts: every signature artifact found for it (the `.sig` tag manifest and the
                referrers of signature types); those of formats not counted are ignored.
            now: the verification time.
            dct: the caller's Docker Content Trust verdict, when the digest is signed there.

        Returns:
            The decision; `failures` says, per format, what was missing or why it failed.
        """
        verdicts: list[Verdict] = []
        failures: list[str] = []
        if DCT in self.formats:
            if dct is not None:
                verdicts.append(dct)
            else:
                failures.append("dct: no signed tag names this digest")
        for fmt, kinds in (
            (COSIGN, (COSIGN_SIG_TAG, SIGSTORE_BUNDLE)),
            (NOTATION, (NOTATION_SIGNATURE,)),
        ):
            if fmt not in self.formats:
                continue
            candidates = [a for a in artifacts if a.kind in kinds]
            if not candidates:
                failures.append(f"{fmt}: no signature found")
                continue
            found, reasons = self._verify(subject, candidates, now)
            verdicts.extend(found)
            if not found:
                failures.append(f"{fmt}: " + "; ".join(dict.fromkeys(reasons)))
        return Decision(bool(verdicts), tuple(verdicts), () if verdicts else tuple(failures))

    def decide_index(self, index: Decision, platforms: Sequence[Decision]) -> Decision:
        """An index counts when it is signed or, if the policy allows, every platform is."""
        if index.signed:
            return index
        if self.platforms and platforms and all(d.signed for d in platforms):
            return Decision(True, tuple(v for d in platforms for v in d.verdicts))
        if self.platforms and platforms:
            return Decision(False, (), (*index.failures, "not every platform manifest is signed"))
        return index

    def _verify(
        self, subject: Subject, candidates: Sequence[SignatureArtifact], now: dt.datetime
    ) -> tuple[list[Verdict], list[str]]:
        verdicts, reasons = [], []
        for artifact in candidates:
            try:
                verdicts.append(self._verify_one(subject, artifact, now))
            except SignatureVerificationError as exc:
                logger.info("signature of %s not accepted: %s", subject.digest, exc)
                reasons.append(str(exc))
        return verdicts, reasons

    def _verify_one(
        self, subject: Subject, artifact: SignatureArtifact, now: dt.datetime
    ) -> Verdict:
        if artifact.kind == COSIGN_SIG_TAG:
            return verify_signature_manifest(
                artifact.manifest,
                artifact.blobs,
                subject.digest,
                self.cosign_keys,
                identities=self.cosign_identities,
                annotations=self.cosign_annotations,
                keyless=self.cosign_keyless,
                now=now,
            )
        if artifact.kind == SIGSTORE_BUNDLE:
            return verify_bundle_manifest(
                artifact.manifest,
                artifact.blobs,
                subject.digest,
                self.cosign_keys,
                image_manifest=subject.manifest,
                keyless=self.cosign_keyless,
                now=now,
            )
        if artifact.kind == NOTATION_SIGNATURE and self.notation_policy is not None:
            statement = (
                self.notation_policy.select(f"{subject.host}/{subject.repository}")
                if subject.host
                else self.notation_policy.select_repository(subject.repository)
            )
            target = TargetArtifact(subject.media_type, subject.digest, subject.size)
            return verify_notation_manifest(
                artifact.manifest, artifact.blobs, target, statement, self.notation_stores, now
            )
        raise MalformedSignatureError(f"unknown signature artifact kind {artifact.kind!r}")


def _cosign(section: Any) -> dict[str, Any]:
    if not isinstance(section, dict) or not (section.get("keys") or section.get("keyless")):
        raise TrustPolicyError("the cosign format needs cosign.keys (PEM public keys) or keyless")
    unknown = set(section) - {"keys", "identities", "annotations", "keyless"}
    if unknown:
        raise TrustPolicyError(f"unknown cosign fields {sorted(unknown)}")
    keys = section.get("keys", [])
    identities = section.get("identities", [])
    annotations = section.get("annotations", {})
    if not _strings(keys):
        raise TrustPolicyError("cosign.keys must be a list of PEM strings")
    if not _strings(identities):
        raise TrustPolicyError("cosign.identities must be a list of strings")
    if not isinstance(annotations, dict) or not all(
        isinstance(v, str) for v in annotations.values()
    ):
        raise TrustPolicyError("cosign.annotations must map strings to strings")
    try:
        loaded = tuple(VerifyingKey.from_pem(k) for k in keys)
    except SignatureVerificationError as exc:
        raise TrustPolicyError(f"cosign.keys: {exc}") from exc
    keyless = section.get("keyless")
    return {
        "cosign_keys": loaded,
        "cosign_identities": tuple(identities),
        "cosign_annotations": dict(annotations),
        "cosign_keyless": None if keyless is None else _keyless(keyless),
    }


def _keyless(section: Any) -> KeylessTrust:
    if not isinstance(section, dict) or set(section) != {"fulcio", "rekor", "identities"}:
        raise TrustPolicyError("cosign.keyless needs exactly fulcio, rekor and identities")
    if not _strings(section["fulcio"]) or not _strings(section["rekor"]):
        raise TrustPolicyError("cosign.keyless fulcio and rekor must be lists of PEM strings")
    identities = section["identities"]
    if not isinstance(identities, list) or not identities:
        raise TrustPolicyError("cosign.keyless.identities must list {issuer, subject} objects")
    try:
        certificates = tuple(c for pem in section["fulcio"] for c in load_pem_certificates(pem))
        log_keys = tuple(VerifyingKey.from_pem(pem) for pem in section["rekor"])
    except SignatureVerificationError as exc:
        raise TrustPolicyError(f"cosign.keyless: {exc}") from exc
    if not certificates or not log_keys:
        raise TrustPolicyError("cosign.keyless needs Fulcio certificates and Rekor keys")
    return KeylessTrust(
        certificates,
        log_keys,
        tuple(_keyless_identity(i) for i in identities),
    )


def _keyless_identity(entry: Any) -> KeylessIdentity:
    """`{issuer | issuerRegExp, subject | subjectRegExp}`: each exact, or a regular expression
    that must match somewhere in the certificate's value."""
    if not isinstance(entry, dict) or not all(isinstance(v, str) and v for v in entry.values()):
        raise TrustPolicyError("cosign.keyless.identities must list {issuer, subject} objects")
    unknown = set(entry) - {"issuer", "issuerRegExp", "subject", "subjectRegExp"}
    if unknown:
        raise TrustPolicyError(f"cosign.keyless identity: unknown keys {sorted(unknown)}")
    issuer = _exact_or_pattern(entry, "issuer")
    subject = _exact_or_pattern(entry, "subject")
    return KeylessIdentity(issuer, subject)


def _exact_or_pattern(entry: dict[str, str], name: str) -> str | re.Pattern[str]:
    pattern_key = name + "RegExp"
    if (name in entry) == (pattern_key in entry):
        raise TrustPolicyError(f"cosign.keyless identity needs one of {name} or {pattern_key}")
    if name in entry:
        return entry[name]
    try:
        return re.compile(entry[pattern_key])
    except re.error as exc:
        raise TrustPolicyError(
            f"cosign.keyless identity: {pattern_key} {entry[pattern_key]!r} is not a regular"
            f" expression ({exc})"
        ) from exc


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _notation(section: Any) -> dict[str, Any]:
    if not isinstance(section, dict) or "trustPolicy" not in section:
        raise TrustPolicyError("the notation format needs notation.trustPolicy")
    if set(section) - {"trustPolicy", "trustStores"}:
        raise TrustPolicyError("notation takes only trustPolicy and trustStores")
    document = TrustPolicyDocument.from_dict(section["trustPolicy"])
    raw_stores = section.get("trustStores", {})
    if not isinstance(raw_stores, dict):
        raise TrustPolicyError("notation.trustStores must map names to stores")
    stores = {}
    for name, store in raw_stores.items():
        if not isinstance(store, dict) or not isinstance(store.get("certificates"), str):
            raise TrustPolicyError(f"trust store {name} needs certificates (PEM)")
        revoked = store.get("revoked", [])
        if not isinstance(revoked, list) or not all(isinstance(r, str) for r in revoked):
            raise TrustPolicyError(f"trust store {name}: revoked must list fingerprints")
        try:
            stores[name] = TrustStore.from_pem(name, store["certificates"], revoked)
        except SignatureVerificationError as exc:
            raise TrustPolicyError(f"trust store {name}: {exc}") from exc
    for statement in document.statements:
        missing = [s for s in statement.trust_stores if s not in stores]
        if missing:
            raise TrustPolicyError(f"trust policy {statement.name} names unknown stores {missing}")
    return {"notation_policy": document, "notation_stores": stores}
