"""Signature policies at the pull gate: find a manifest's signatures in the hub, ask the policy.

When a repository that requires content trust has a signature policy
(`trust.sigs.policy.SignaturePolicy`), a manifest is served only when the policy counts it as
signed. The signatures are read from the hub's own storage, in this repository only:

* cosign's tag scheme: the manifest tagged `sha256-<hex>.sig`;
* OCI 1.1 referrers of the digest whose artifact type is a Sigstore bundle or a Notation
  signature (a referrer pushed to another repository never counts here);
* Docker Content Trust, when the policy counts `dct`: the caller's TUF verdict.

An index counts when it is signed or, if the policy allows, every platform manifest is; a
platform manifest pulled by digest also counts when an index of this repository that holds it
counts (a multi-platform pull fetches its platform by digest).

Costs: the policy document is parsed once per version (versions are content hashes, so a cached
policy is never stale). A gated read looks up which signature artifacts exist (one query),
except that a digest found signed is not looked up again for `recheck_after` seconds (so a
deleted signature stops counting within that bound; DCT verdicts are always asked). The
verification itself is cached by (repository, digest, policy version, the set of signature
artifacts, DCT verdict) for `verdict_ttl` seconds, which bounds how late a certificate or
signature expiry is noticed. Removing a key or certificate changes the policy version, so it
takes effect on the next read on every replica.

Scope: reads through the manifest and blob services; the decision is `trust.sigs`'.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import policy_queries
from registry.db.hotreads import HotReads
from registry.db.queries import ManifestRecord
from registry.errors import BlobUnknownError, ManifestUnknownError
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.services.blobs import BlobService
from registry.services.manifests import ManifestService
from trust.sigs.cosign import signature_tag
from trust.sigs.errors import TrustPolicyError
from trust.sigs.policy import (
    COSIGN_SIG_TAG,
    Decision,
    SignatureArtifact,
    SignaturePolicy,
    Subject,
    artifact_kind,
)
from trust.sigs.verdict import DCT, Verdict

__all__ = ["SignatureGate"]

logger = logging.getLogger(__name__)

# A signature layer is a few kilobytes; anything far larger is not read into memory.
_MAX_SIGNATURE_BLOB = 1024 * 1024  # bytes
_MAX_CACHED = 50_000  # decisions before the cache starts over

DctCheck = Callable[[str], Awaitable[Verdict | None]]


@dataclass(frozen=True)
class _Found:
    """The signature artifacts present for a digest: (kind, manifest digest) pairs."""

    artifacts: tuple[tuple[str, str], ...]


class SignatureGate:
    """Decides gated manifest reads under a repository's signature policy.

    Args:
        engine: the hub database (policy documents).
        reads: the hot-read path (signature artifact lookups).
        manifests: reads signature manifests and index children.
        blobs: reads signature layers (only those linked into the repository).
        clock: "now" for certificate and expiry checks.
        verdict_ttl: seconds a verification result is reused.
        recheck_after: seconds a signed digest is served without looking its signatures up.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        reads: HotReads,
        manifests: ManifestService,
        blobs: BlobService,
        clock: Callable[[], dt.datetime],
        verdict_ttl: float = 60.0,
        recheck_after: float = 1.0,
    ) -> None:
        self.engine = engine
        self.reads = reads
        self.manifests = manifests
        self.blobs = blobs
        self.clock = clock
        self.verdict_ttl = verdict_ttl
        self.recheck_after = recheck_after
        self._recent: dict[tuple[str, str, str], tuple[float, Decision]] = {}
        self._policies: dict[str, SignaturePolicy | None] = {}
        self._decisions: dict[tuple[object, ...], tuple[float, Decision]] = {}

    async def policy(self, version: str) -> SignaturePolicy | None:
        """The policy stored under `version` (None when missing or unreadable: nothing counts)."""
        if version in self._policies:
            return self._policies[version]
        async with self.engine.connect() as conn:
            document = await policy_queries.policy_document(conn, version)
        policy = None
        if document is not None:
            try:
                policy = SignaturePolicy.from_dict(json.loads(document))
            except (TrustPolicyError, ValueError) as exc:
                logger.error("stored signature policy %s does not load: %s", version, exc)
        self._policies[version] = policy
        return policy

    async def decide(
        self, repository: str, record: ManifestRecord, policy: SignaturePolicy, dct: DctCheck
    ) -> Decision:
        """Whether the manifest `record` of `repository` counts as signed under `policy`.

        Args:
            repository: the repository read from.
            record: the manifest asked for.
            policy: the repository's effective signature policy.
            dct: gives the Docker Content Trust verdict for a digest (None: not signed there).
        """
        decision = await self._decide_manifest(repository, record, policy, dct)
        if decision.signed or record.media_type in mt.INDEX_TYPES:
            return decision
        rows = await self.reads.fetch(
            policy_queries.INDEX_PARENTS, {"repo": repository, "child": record.digest}
        )
        for (parent_digest,) in rows:
            parent = await self._record(repository, parent_digest)
            if parent is not None and parent.media_type in mt.INDEX_TYPES:
                parent_decision = await self._decide_manifest(repository, parent, policy, dct)
                if parent_decision.signed:
                    return parent_decision
        return decision

    async def _decide_manifest(
        self, repository: str, record: ManifestRecord, policy: SignaturePolicy, dct: DctCheck
    ) -> Decision:
        decision = await self._decide_digest(repository, record, policy, dct)
        if record.media_type not in mt.INDEX_TYPES or decision.signed or not policy.platforms:
            return decision
        children = []
        for child in json.loads(record.payload).get("manifests", []):
            found = await self._record(repository, child.get("digest", ""))
            if found is None:
                children.append(Decision(False, (), (f"platform {child.get('digest')} missing",)))
            else:
                children.append(await self._decide_digest(repository, found, policy, dct))
        return policy.decide_index(decision, children)

    async def _decide_digest(
        self, repository: str, record: ManifestRecord, policy: SignaturePolicy, dct: DctCheck
    ) -> Decision:
        now = time.monotonic()
        # A signed digest is not looked up again for `recheck_after` seconds (DCT verdicts
        # have their own cache and are always asked).
        recent_key = (repository, record.digest, policy.version)
        recent = self._recent.get(recent_key)
        if (
            recent is not None
            and now - recent[0] < self.recheck_after
            and DCT not in policy.formats
        ):
            return recent[1]
        found = await self._find(repository, record.digest)
        dct_verdict = await dct(record.digest) if DCT in policy.formats else None
        key = (repository, record.digest, policy.version, found, dct_verdict)
        cached = self._decisions.get(key)
        if cached is not None and now - cached[0] < self.verdict_ttl:
            self._remember(recent_key, now, cached[1])
            return cached[1]
        artifacts = [
            artifact
            for kind, digest in found.artifacts
            if (artifact := await self._artifact(repository, kind, digest)) is not None
        ]
        subject = Subject(
            repository, record.digest, record.media_type, len(record.payload), record.payload
        )
        decision = policy.decide(subject, artifacts, self.clock(), dct=dct_verdict)
        if len(self._decisions) > _MAX_CACHED:
            self._decisions.clear()
        self._decisions[key] = (now, decision)
        self._remember(recent_key, now, decision)
        return decision

    def _remember(self, key: tuple[str, str, str], now: float, decision: Decision) -> None:
        if not decision.signed:
            return
        if len(self._recent) > _MAX_CACHED:
            self._recent.clear()
        self._recent[key] = (now, decision)

    async def _find(self, repository: str, digest: str) -> _Found:
        params = {"repo": repository, "digest": digest, "tag": signature_tag(digest)}
        rows = await self.reads.fetch(policy_queries.SIGNATURE_ARTIFACTS, params)
        artifacts = []
        for artifact_digest, kind_or_type in rows:
            kind = COSIGN_SIG_TAG if kind_or_type == COSIGN_SIG_TAG else artifact_kind(kind_or_type)
            if kind is not None:
                artifacts.append((kind, artifact_digest))
        return _Found(tuple(artifacts))

    async def _record(self, repository: str, digest: str) -> ManifestRecord | None:
        try:
            return await self.manifests.get(repository, Digest.parse(digest))
        except (ManifestUnknownError, ValueError):
            return None

    async def _artifact(self, repository: str, kind: str, digest: str) -> SignatureArtifact | None:
        """A signature manifest and its layer blobs (only blobs linked into `repository`)."""
        record = await self._record(repository, digest)
        if record is None:
            return None
        blobs: dict[str, bytes] = {}
        try:
            layers = json.loads(record.payload).get("layers") or []
        except ValueError:
            return None
        for layer in layers:
            blob = await self._blob(repository, layer.get("digest", ""))
            if blob is not None:
                blobs[layer["digest"]] = blob
        return SignatureArtifact(kind, record.payload, blobs)

    async def _blob(self, repository: str, digest: str) -> bytes | None:
        try:
            parsed = Digest.parse(digest)
            size = await self.blobs.stat(repository, parsed)
        except (BlobUnknownError, ValueError):
            return None
        if size > _MAX_SIGNATURE_BLOB:
            return None
        chunks = [chunk async for chunk in self.blobs.open(parsed)]
        return b"".join(chunks)
