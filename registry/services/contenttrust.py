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

Scope: the decision, and what it rests on for pages (`signatures`, `signed_tags`); the API
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
from registry.errors import UnsignedContentError
from registry.oci.digest import Digest
from trust.client.updater import DOCKER_ROLES, list_targets
from trust.server.gate import TrustGate

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
    """

    def __init__(
        self,
        gate: TrustGate,
        reads: HotReads,
        engine: AsyncEngine,
        repository_of_gun: Callable[[str], str],
    ) -> None:
        self.gate = gate
        self.reads = reads
        self.engine = engine
        self.repository_of_gun = repository_of_gun

    async def guns(self, repository: str) -> list[str]:
        """Every GUN with trust data that names `repository`, whatever its host."""
        params = {"name": repository, "pattern": queries.gun_suffix_pattern(repository)}
        rows = await self.reads.fetch(queries.TRUST_GUNS, params)
        return sorted(row[0] for row in rows if self.repository_of_gun(row[0]) == repository)

    async def check(self, repository: str, reference: Digest | str, digest: str) -> None:
        """Allow the read of `digest` (found by `reference`) only when it is signed.

        Raises:
            UnsignedContentError: the manifest is not signed as described in the module doc.
        """
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

    async def signatures(self, repository: str, tag: str) -> list[TagSignature]:
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
