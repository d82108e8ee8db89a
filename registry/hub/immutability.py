"""Immutability rules: which tags of a namespace or repository stay fixed once pushed.

A rule is a tag pattern (`registry.hub.tag_patterns`) set on a namespace (every repository in
it) or on one repository. While a rule matches a tag, a manifest PUT moving the tag to another
digest and a DELETE of the tag (or of a manifest it names) are refused with DENIED, for hub
admins too; removing the rule lifts that. The refusals themselves live in the manifest writes
(`registry.services.manifests`); this module manages the rules.

Scope: listing, adding and removing rules, with the audit log. Who may do so is the API's and
the command line's business.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.db import immutability_queries
from registry.db.immutability_queries import ImmutableRule
from registry.errors import InvalidRequestError, NotFoundError
from registry.hub.audit import AuditLog
from registry.hub.tag_patterns import PatternError, validate_pattern

__all__ = ["ImmutabilityService", "ImmutableRule"]

logger = logging.getLogger(__name__)


class ImmutabilityService:
    """Immutability rules on the hub database.

    Args:
        engine: the hub database.
        audit: where rule changes are recorded.
    """

    def __init__(self, engine: AsyncEngine, audit: AuditLog) -> None:
        self.engine = engine
        self.audit = audit

    async def rules(self, scope: str) -> list[ImmutableRule]:
        """The rules set on the namespace or repository `scope` itself.

        Raises:
            NotFoundError: no such namespace or repository.
        """
        async with self.engine.connect() as conn:
            await self._require(conn, scope)
            return await immutability_queries.rules_in_scope(conn, scope)

    async def rules_over(self, repository: str) -> list[ImmutableRule]:
        """Every rule holding `repository`: its namespace's, then its own.

        Raises:
            NotFoundError: no such repository.
        """
        async with self.engine.connect() as conn:
            await self._require(conn, repository)
            return await immutability_queries.rules_over(conn, repository)

    async def add(
        self, scope: str, pattern: str, *, actor: str, address: str = ""
    ) -> ImmutableRule:
        """Add a rule to `scope` (adding an existing pattern returns its rule).

        Raises:
            InvalidRequestError: the pattern is not a usable tag glob.
            NotFoundError: no such namespace or repository.
        """
        try:
            validate_pattern(pattern)
        except PatternError as exc:
            raise InvalidRequestError(str(exc), pattern=pattern) from exc
        async with self.engine.begin() as conn:
            await self._require(conn, scope)
            rule = await immutability_queries.add_rule(conn, scope, pattern, actor)
        await self.audit.record(
            actor, "immutable-tag-rule-add", scope, address, rule=rule.id, pattern=pattern
        )
        logger.info("immutability rule %s %r added on %s", rule.id, pattern, scope)
        return rule

    async def remove(self, scope: str, rule_id: int, *, actor: str, address: str = "") -> None:
        """Remove rule `rule_id` from `scope`.

        Raises:
            NotFoundError: `scope` has no such rule.
        """
        async with self.engine.begin() as conn:
            removed = await immutability_queries.remove_rule(conn, scope, rule_id)
        if removed is None:
            raise NotFoundError(f"{scope} has no immutability rule {rule_id}", rule=rule_id)
        await self.audit.record(
            actor,
            "immutable-tag-rule-remove",
            scope,
            address,
            rule=rule_id,
            pattern=removed.pattern,
        )
        logger.info("immutability rule %s %r removed from %s", rule_id, removed.pattern, scope)

    @staticmethod
    async def _require(conn: AsyncConnection, scope: str) -> None:
        if not await immutability_queries.scope_exists(conn, scope):
            kind = "repository" if "/" in scope else "namespace"
            raise NotFoundError(f"no {kind} {scope!r}", name=scope)
