"""The verification gate's question, answered from stored trust data: is this tag signed?

The hub asks it before serving a manifest from a repository that requires content trust.
The stored documents are verified as a client would (signatures, thresholds, expiry, hashes,
delegation paths; anchored at the stored root, which the server validated on upload), and a
tag resolves with Docker's priority (`targets/releases`, then `targets`). Results are cached
per GUN until its timestamp changes or the first of its verified documents expires.

Scope: reads through `TrustService`; no HTTP.
"""

from __future__ import annotations

import datetime as dt
import logging

from trust.client.trusted_set import TrustedSet
from trust.client.updater import DOCKER_ROLES, SignedTarget, list_targets, resolve, verify_documents
from trust.server.errors import MetadataNotFoundError
from trust.server.service import TrustService
from trust.tuf.errors import TargetNotFoundError, TrustError

__all__ = ["TrustGate"]

logger = logging.getLogger(__name__)


class TrustGate:
    """Signed-tag lookups for the hub's verification gate."""

    def __init__(self, service: TrustService) -> None:
        """Read trust data through `service`."""
        self.service = service
        # gun -> (timestamp sha256, verified set or None, when the first document expires)
        self._verified: dict[str, tuple[str, TrustedSet | None, dt.datetime]] = {}

    async def trusted(self, gun: str) -> TrustedSet | None:
        """The verified trust data of `gun`, or None when it has none or it does not verify."""
        try:
            timestamp = await self.service.get_current(gun, "timestamp")
        except MetadataNotFoundError:
            return None
        now = self.service.clock()
        cached = self._verified.get(gun)
        if cached is not None and cached[0] == timestamp.sha256 and now < cached[2]:
            return cached[1]
        documents = {r: m.data for r, m in (await self.service.store.get_all_current(gun)).items()}
        documents["timestamp"] = timestamp.data
        try:
            trusted: TrustedSet | None = verify_documents(gun, documents, now)
        except TrustError as exc:
            logger.warning("stored trust data of %s does not verify: %s", gun, exc)
            trusted = None
        if len(self._verified) > 10_000:
            self._verified.clear()
        valid_until = (
            _first_expiry(trusted)
            if trusted is not None
            else dt.datetime.max.replace(tzinfo=dt.UTC)
        )
        self._verified[gun] = (timestamp.sha256, trusted, valid_until)
        return trusted

    async def signed_target(self, gun: str, tag: str) -> SignedTarget | None:
        """The signed target for `tag` (Docker's role priority), or None when unsigned."""
        trusted = await self.trusted(gun)
        if trusted is None:
            return None
        try:
            return resolve(trusted, tag, DOCKER_ROLES)
        except TargetNotFoundError:
            return None

    async def signed_digests(self, gun: str) -> frozenset[str]:
        """Every manifest digest (`sha256:...`) signed for some tag in Docker's roles."""
        trusted = await self.trusted(gun)
        if trusted is None:
            return frozenset()
        listing = list_targets(trusted, DOCKER_ROLES)
        return frozenset(target.digest for targets in listing.values() for target in targets)


def _first_expiry(trusted: TrustedSet) -> dt.datetime:
    """When the first of the verified documents expires (the cached verdict ends then)."""
    documents = [trusted.root, trusted.timestamp, trusted.snapshot, *trusted.targets.values()]
    return min(doc.signed.expires_at for doc in documents if doc is not None)
