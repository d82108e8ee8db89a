"""What a caller holds on repositories: database facts fed through the pure policy.

`Grants` answers "which actions on this repository", "which of these repositories may the
caller see" (the catalog) and "which private repositories may the caller see" (search).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.access import Access
from registry.auth.policy import Principal, RepositoryFacts, best_role, granted_actions
from registry.auth.scopes import LIBRARY, canonical_repository, namespace_of
from registry.db import account_queries, auth_reads, hub_queries
from registry.db.hotreads import HotReads
from registry.db.hub_queries import Visibility
from registry.oci.reference import is_valid_name

logger = logging.getLogger(__name__)

__all__ = ["Grants"]


class Grants:
    """Computes granted actions from namespaces, team grants and repository visibility."""

    def __init__(self, engine: AsyncEngine, reads: HotReads) -> None:
        self.engine = engine
        self.reads = reads  # per-request facts, read fresh each time (`registry.db.auth_reads`)

    async def facts(self, principal: Principal | None, repository: str) -> RepositoryFacts:
        """The facts the policy needs about one canonical repository name."""
        found = await self.reads.fetch(
            auth_reads.NAMESPACE, {"namespace": namespace_of(repository)}
        )
        namespace_id, kind, default_public = found[0] if found else (None, None, False)
        public = await self.reads.fetch(auth_reads.REPOSITORY_PUBLIC, {"repo": repository})
        role = None
        if principal is not None and namespace_id is not None and kind != "user":
            params = {
                "user_id": principal.user_id,
                "namespace_id": namespace_id,
                "whole": "",
                "repo": repository,
            }
            rows = await self.reads.fetch(auth_reads.TEAM_ROLES, params)
            role = best_role([row[0] for row in rows])
        return RepositoryFacts(
            repository=repository,
            namespace_kind=kind,
            is_public=bool(public[0][0]) if public else bool(default_public),
            role=role,
        )

    async def actions(self, principal: Principal | None, wanted: Access) -> frozenset[str]:
        """The subset of `wanted.actions` the caller holds.

        Repository names may be bare (`busybox`) or Notary GUNs (`host:port/name`).
        """
        if wanted.type == "registry" and wanted.name == "catalog":
            # Everyone may list; the listing only shows what the caller may see.
            return wanted.actions & {"*"}
        if wanted.type != "repository":
            return frozenset()
        repository = canonical_repository(wanted.name)
        if not is_valid_name(repository):
            return frozenset()
        facts = await self.facts(principal, repository)
        return granted_actions(principal, facts) & wanted.actions

    async def visibility(self, principal: Principal | None) -> Visibility:
        """Beyond public repositories, what the caller may see (for listings and search)."""
        if principal is None:
            return Visibility()
        if principal.is_admin:
            return Visibility(everything=True)
        async with self.engine.connect() as conn:
            records = await account_queries.grants_of_user(conn, principal.user_id)
        namespaces = {principal.name}
        repositories = set()
        for grant in records:
            if grant.repository:
                repositories.add(grant.repository)
            else:
                namespaces.add(grant.namespace)
        return Visibility(False, frozenset(namespaces), frozenset(repositories))

    async def visible(self, principal: Principal | None, names: Sequence[str]) -> list[str]:
        """The names (in order) whose repositories the caller may pull."""
        visibility = await self.visibility(principal)
        if visibility.everything:
            return list(names)
        async with self.engine.connect() as conn:
            public = await hub_queries.visibility_of(conn, names)
            namespaces = await account_queries.namespaces_by_names(
                conn, [namespace_of(n) for n in names]
            )
        shown = []
        for name in names:
            namespace = namespace_of(name)
            record = namespaces.get(namespace)
            default = record.default_public if record is not None else namespace == LIBRARY
            if (
                public.get(name, default)
                or namespace in visibility.namespaces
                or name in visibility.repositories
            ):
                shown.append(name)
        return shown
