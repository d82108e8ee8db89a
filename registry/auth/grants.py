"""What a caller holds on repositories: database facts fed through the pure policy.

`Grants` answers "which actions on this repository" and "which private repositories may the
caller see" (a `Visibility` that the catalog, listings and search apply in their queries).
A robot account holds what its scope grants (`registry.auth.robots`), never a team role.
"""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.access import Access
from registry.auth.policy import Principal, RepositoryFacts, best_role, granted_actions
from registry.auth.robots import Robot
from registry.auth.scopes import namespace_of
from registry.db import account_queries, auth_reads
from registry.db.hotreads import HotReads
from registry.db.hub_queries import Visibility
from registry.hub.names import repository_of_path

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

    async def actions(self, principal: Principal | Robot | None, wanted: Access) -> frozenset[str]:
        """The subset of `wanted.actions` the caller (an account, a robot, or anonymous) holds.

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
        if isinstance(principal, Robot):
            facts = await self.facts(None, repository)  # a robot holds no team role
            held = principal.actions_on(
                repository, is_public=facts.is_public, namespace_kind=facts.namespace_kind
            )
            return held & wanted.actions
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
