"""The verification gate: repositories that require content trust serve only signed manifests.

A repository requires trust when its own setting says so, or when it has none and its
namespace's does (`repositories.trust_required`, `namespaces.trust_required`); the hot manifest
reads return the effective flag, so only such repositories reach this module.

What counts as signed is the trust server's stored, server-validated TUF data, verified again
as a client would (`trust.server.gate.TrustGate`: signatures, thresholds, hashes, expiry;
Docker's role priority `targets/releases`, then `targets`). A GUN is `<host[:port]>/<repo>`
with whatever host the client used; signatures under any GUN whose repository part is this
repository count (publishing under any of them needs push on this same repository).

- by tag: the tag's current digest must be the digest signed for that tag;
- by digest: the digest must be signed for some tag, or be a child of a signed index held by
  the repository (a multi-platform pull fetches its platform's manifest by digest).

When the repository (or its namespace) names a signature policy, the policy decides instead:
which formats count (Docker Content Trust as above, cosign, Notation) and whom they trust
(`registry.services.signatures`); the signature artifacts themselves (cosign `.sig` manifests,
Sigstore bundle and Notation signature referrers that cannot run as images) are served, since
clients read them to verify. Without a policy, requiring trust means Docker Content Trust.

Scope: the decision, and what it rests on for pages (`tag_signatures`, `signed_tags`); the API
layer turns `UnsignedContentError` into 403 DENIED.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import queries
from registry.db.hotreads import HotReads
from registry.db.queries import ManifestRecord
from registry.errors import UnsignedContentError
from registry.oci.digest import Digest
from registry.services.signatures import SignatureGate
from trust.client.updater import DOCKER_ROLES, list_targets
from trust.server.gate import TrustGate
from trust.sigs.policy import is_signature_artifact
from trust.sigs.verdict import DCT, Verdict

logger = logging.getLogger(__name__)

__all__ = ["ContentTrustPolicy", "TagSignature"]


@dataclass(frozen=True, slots=True)
class TagSignature:
    """One verified signature of a tag: where, by which role and keys, until when."""

    gun: str
    role: str  # "targets", or a delegation such as "targets/releases"
    key_ids: tuple[str, ...]  # keys that signed the role's document (it met its threshold)
    digest: str  # the manifest digest signed for the tag
    expires: dt.datetime  # when the GUN's timestamp expires (then clients refuse it)


class ContentTrustPolicy:
    """Checks manifest reads of repositories that require content trust.

    Args:
        gate: signed-tag lookups over the stored trust data.
        reads: the hot-read path (the GUNs of a repository, on the hub's database).
        engine: the hub database (index children).
        repository_of_gun: maps a GUN to the repository it names.
        signatures: decides under signature policies.
    """

    def __init__(
        self,
        gate: TrustGate,
        reads: HotReads,
        engine: AsyncEngine,
        repository_of_gun: Callable[[str], str | None],
        signatures: SignatureGate,
    ) -> None:
        self.gate = gate
        self.reads = reads
        self.engine = engine
        self.repository_of_gun = repository_of_gun
        self.signatures = signatures

    async def guns(self, repository: str) -> list[str]:
        """Every GUN with trust data that names `repository`, whatever its host."""
        params = {"name": repository, "pattern": queries.gun_suffix_pattern(repository)}
        rows = await self.reads.fetch(queries.TRUST_GUNS, params)
        return sorted(row[0] for row in rows if self.repository_of_gun(row[0]) == repository)

    async def check(self, repository: str, reference: Digest | str, record: ManifestRecord) -> None:
        """Allow the read of `record` (found by `reference`) only when it is signed.

        Raises:
            UnsignedContentError: the manifest is not signed as described in the module doc.
        """
        if record.signature_policy is None:
            await self._check_dct(repository, reference, record.digest)
        else:
            await self._check_policy(repository, reference, record, record.signature_policy)

    async def _check_policy(
        self, repository: str, reference: Digest | str, record: ManifestRecord, version: str
    ) -> None:
        policy = await self.signatures.policy(version)
        tag = reference if isinstance(reference, str) else None

        async def dct(digest: str) -> Verdict | None:
            guns = await self.guns(repository)
            if tag is not None and digest == record.digest:
                for gun in guns:
                    target = await self.gate.signed_target(gun, tag)
                    if target is not None and target.digest == digest:
                        return Verdict(DCT, digest, gun, "tuf")
                return None
            for gun in guns:
                if digest in await self.gate.signed_digests(gun):
                    return Verdict(DCT, digest, gun, "tuf")
            return None

        if policy is None:
            explanation = "its signature policy cannot be read"
        else:
            decision = await self.signatures.decide(repository, record, policy, dct)
            # Signatures themselves are served: clients read them to verify the image (asked
            # only here, so that signed images do not pay for parsing their manifest).
            if decision.signed or is_signature_artifact(record.payload):
                return
            explanation = decision.explain()
        logger.info(
            "refused %s@%s under its signature policy: %s", repository, record.digest, explanation
        )
        what = f"tag {tag!r}" if tag is not None else record.digest
        raise UnsignedContentError(
            f"signature required: {what} of {repository} is not signed as its policy requires"
            f" ({explanation})",
            name=repository,
            digest=record.digest,
            **({"tag": tag} if tag is not None else {}),
        )

    async def _check_dct(self, repository: str, reference: Digest | str, digest: str) -> None:
        guns = await self.guns(repository)
        if isinstance(reference, str):
            for gun in guns:
                target = await self.gate.signed_target(gun, reference)
                if target is not None and target.digest == digest:
                    return
            logger.info("refused unsigned tag %s:%s (%s)", repository, reference, digest)
            raise UnsignedContentError(
                f"content trust required: tag {reference!r} of {repository} is not signed"
                " (or is signed for another digest)",
                name=repository,
                tag=reference,
                digest=digest,
            )
        signed: set[str] = set()
        for gun in guns:
            signed |= await self.gate.signed_digests(gun)
        if digest in signed:
            return
        async with self.engine.connect() as conn:
            if await queries.signed_index_holds(conn, repository, digest, sorted(signed)):
                return
        logger.info("refused unsigned manifest %s@%s", repository, digest)
        raise UnsignedContentError(
            f"content trust required: {digest} is not a signed target of {repository}"
            " nor inside a signed index",
            name=repository,
            digest=digest,
        )

    async def tag_signatures(self, repository: str, tag: str) -> list[TagSignature]:
        """Every verified signature of `tag` in the repository's trust data (any GUN)."""
        found = []
        for gun in await self.guns(repository):
            trusted = await self.gate.trusted(gun)
            if trusted is None or trusted.timestamp is None:
                continue
            for target in list_targets(trusted, DOCKER_ROLES).get(tag, [])[:1]:
                role = trusted.targets[target.role]
                found.append(
                    TagSignature(
                        gun,
                        target.role,
                        tuple(sorted(sig.keyid for sig in role.signatures)),
                        target.digest,
                        trusted.timestamp.signed.expires_at,
                    )
                )
        return found

    async def signed_tags(self, repository: str) -> dict[str, frozenset[str]]:
        """Tag -> the digests signed for it (Docker's role priority), over every GUN."""
        signed: dict[str, set[str]] = {}
        for gun in await self.guns(repository):
            trusted = await self.gate.trusted(gun)
            if trusted is None:
                continue
            for name, targets in list_targets(trusted, DOCKER_ROLES).items():
                signed.setdefault(name, set()).add(targets[0].digest)
        return {name: frozenset(digests) for name, digests in signed.items()}
