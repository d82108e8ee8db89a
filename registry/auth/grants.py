"""What a caller holds on repositories: database facts fed through the pure policy.

`Grants` answers "which actions on this repository" and "which private repositories may the
caller see" (a `Visibility` that the catalog, listings and search apply in their queries).
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.access import Access
from registry.auth.policy import Principal, RepositoryFacts, best_role, granted_actions
from registry.auth.scopes import namespace_of
from registry.db import account_queries, hub_queries
from registry.db.hub_queries import Visibility
from registry.hub.names import repository_of_path

logger = logging.getLogger(__name__)

__all__ = ["Grants"]


class Grants:
    """Computes granted actions from namespaces, team grants and repository visibility."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def facts(self, principal: Principal | None, repository: str) -> RepositoryFacts:
        """The facts the policy needs about one canonical repository name."""
        async with self.engine.connect() as conn:
            namespace = await account_queries.namespace_by_name(conn, namespace_of(repository))
            public = await hub_queries.visibility_of(conn, [repository])
            role = None
            if principal is not None and namespace is not None and namespace.kind != "user":
                roles = await account_queries.roles_on(
                    conn, principal.user_id, namespace.id, repository
                )
                role = best_role(roles)
        default_public = namespace.default_public if namespace is not None else False
        return RepositoryFacts(
            repository=repository,
            namespace_kind=namespace.kind if namespace is not None else None,
            is_public=public.get(repository, default_public),
            role=role,
        )

    async def actions(self, principal: Principal | None, wanted: Access) -> frozenset[str]:
        """The subset of `wanted.actions` the caller holds.

        `wanted.name` must be a repository as the hub names it (`library/busybox`, not
        `busybox` nor a GUN): callers resolve what the client wrote (`registry.hub.names`)
        first, so no spelling can reach another repository's grants.
        """
        if wanted.type == "registry" and wanted.name == "catalog":
            # Everyone may list (`*`) and search (Docker asks for `search` when it holds an
            # identity token); answers only show what the caller may see.
            return wanted.actions & {"*", "search"}
        if wanted.type != "repository":
            return frozenset()
        repository = wanted.name
        if repository_of_path(repository) != repository:
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
