"""Accounts: users, organizations with teams and roles, personal access tokens.

One service for the admin command line and the JSON API alike. It checks names and rules and
records every change in the audit log; who may call what is the caller's business (the API
checks the principal, the command line works on the data directory as the operator).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.auth import credentials
from registry.auth.policy import ROLES, TOKEN_SCOPES, Principal
from registry.auth.scopes import LIBRARY
from registry.db import account_queries as q
from registry.db import hub_queries
from registry.db.account_queries import NamespaceRecord, TeamRecord, TokenRecord, UserRecord
from registry.errors import AlreadyExistsError, InvalidRequestError, NotFoundError
from registry.hub.audit import AuditLog
from registry.hub.names import account_name_problem, repository_of_path, team_name_problem

logger = logging.getLogger(__name__)

MAX_TOKEN_LIFETIME = timedelta(days=366)  # an access token given an expiry lives at most this

__all__ = ["ADMIN_USER", "AccountService", "Organization"]

ADMIN_USER = "admin"
OWNERS_TEAM = "owners"
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Organization:
    name: str
    default_public: bool
    teams: tuple[TeamRecord, ...]


def _check_account_name(name: str) -> None:
    """Users and organisations are namespaces: `registry.hub.names` says which names may be."""
    problem = account_name_problem(name)
    if problem is not None:
        raise InvalidRequestError(problem, name=name)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequestError(f"passwords have at least {MIN_PASSWORD_LENGTH} characters")


async def _namespace_id(conn: AsyncConnection, name: str) -> int:
    """The id of the namespace (user or organization) `name`.

    Raises:
        NotFoundError: no such namespace.
    """
    record = await q.namespace_by_name(conn, name)
    if record is None:
        raise NotFoundError(f"no namespace {name!r}")
    return record.id


class AccountService:
    """Users, organizations, teams, grants and access tokens over the hub database."""

    def __init__(self, engine: AsyncEngine, audit: AuditLog) -> None:
        self.engine = engine
        self.audit = audit

    # Users ------------------------------------------------------------------------------

    async def add_user(
        self, name: str, password: str, *, is_admin: bool = False, actor: str, address: str = ""
    ) -> UserRecord:
        """Create a user (and its namespace).

        Raises:
            InvalidRequestError: bad name or too short a password.
            AlreadyExistsError: a user or organization has that name.
        """
        _check_account_name(name)
        _check_password(password)
        password_hash = await asyncio.to_thread(credentials.hash_password, password)
        async with self.engine.begin() as conn:
            if not await q.insert_user(conn, name, password_hash, is_admin):
                raise AlreadyExistsError(f"the name {name!r} is taken", name=name)
            user = await q.user_by_name(conn, name)
        assert user is not None
        await self.audit.record(actor, "user-add", name, address, admin=is_admin)
        return user

    async def user(self, name: str) -> UserRecord:
        """Raises NotFoundError when there is no such user."""
        async with self.engine.connect() as conn:
            user = await q.user_by_name(conn, name)
        if user is None:
            raise NotFoundError(f"no user {name!r}", name=name)
        return user

    async def users(self) -> list[UserRecord]:
        async with self.engine.connect() as conn:
            return await q.list_users(conn)

    async def set_password(
        self, name: str, password: str, *, actor: str, address: str = ""
    ) -> None:
        """Replace a password; refresh tokens made from the old one stop working."""
        _check_password(password)
        user = await self.user(name)
        password_hash = await asyncio.to_thread(credentials.hash_password, password)
        async with self.engine.begin() as conn:
            await q.set_password_hash(conn, user.id, password_hash)
        await self.audit.record(actor, "user-passwd", name, address)

    async def set_admin(self, name: str, is_admin: bool, *, actor: str, address: str = "") -> None:
        user = await self.user(name)
        async with self.engine.begin() as conn:
            await q.set_admin(conn, user.id, is_admin)
        await self.audit.record(actor, "user-admin", name, address, admin=is_admin)

    async def remove_user(self, name: str, *, actor: str, address: str = "") -> None:
        """Remove a user with its tokens, stars and team memberships (repositories stay)."""
        user = await self.user(name)
        async with self.engine.begin() as conn:
            await q.delete_user(conn, user.id, user.name)
        await self.audit.record(actor, "user-rm", name, address)

    async def ensure_library(self) -> None:
        """Make sure the official-images namespace exists (public by default)."""
        async with self.engine.begin() as conn:
            await q.insert_namespace(conn, LIBRARY, "library", True)

    async def bootstrap_admin(self, password: str | None) -> str | None:
        """On an empty database, create `admin`; the generated password when one was made."""
        async with self.engine.connect() as conn:
            if await q.count_users(conn):
                return None
        generated = password is None
        password = password or credentials.new_password()
        try:
            await self.add_user(ADMIN_USER, password, is_admin=True, actor="(bootstrap)")
        except AlreadyExistsError:
            return None  # another hub process made it first
        return password if generated else None

    # Organizations, teams and grants ------------------------------------------------------

    async def _namespace(self, name: str, kind: str = "org") -> NamespaceRecord:
        async with self.engine.connect() as conn:
            namespace = await q.namespace_by_name(conn, name)
        if namespace is None or namespace.kind != kind:
            raise NotFoundError(f"no {'organization' if kind == 'org' else kind} {name!r}")
        return namespace

    async def create_org(
        self, name: str, owner: str, *, actor: str, address: str = ""
    ) -> Organization:
        """Create an organization whose `owners` team holds `owner`.

        Raises:
            InvalidRequestError, AlreadyExistsError, NotFoundError (no such owner).
        """
        _check_account_name(name)
        owner_user = await self.user(owner)
        async with self.engine.begin() as conn:
            if not await q.insert_namespace(conn, name, "org", False):
                raise AlreadyExistsError(f"the name {name!r} is taken", name=name)
            namespace = await q.namespace_by_name(conn, name)
            assert namespace is not None
            await q.insert_team(conn, namespace.id, OWNERS_TEAM)
            team = await q.team_id(conn, namespace.id, OWNERS_TEAM)
            assert team is not None
            await q.set_grant(conn, team, namespace.id, "", "owner")
            await q.add_member(conn, team, owner_user.id)
        await self.audit.record(actor, "org-add", name, address, owner=owner)
        return await self.org(name)

    async def org(self, name: str) -> Organization:
        namespace = await self._namespace(name)
        async with self.engine.connect() as conn:
            teams = await q.list_teams(conn, namespace.id)
        return Organization(namespace.name, namespace.default_public, tuple(teams))

    async def orgs(self) -> list[NamespaceRecord]:
        async with self.engine.connect() as conn:
            return await q.list_namespaces(conn, "org")

    async def remove_org(self, name: str, *, actor: str, address: str = "") -> None:
        namespace = await self._namespace(name)
        async with self.engine.begin() as conn:
            await q.delete_namespace(conn, namespace.id)
        await self.audit.record(actor, "org-rm", name, address)

    async def may_manage(self, principal: Principal, org: str) -> bool:
        """Admins and the org's owners manage its teams and grants."""
        if principal.acts_as_admin:
            return True
        if not principal.may_use_scope("admin"):
            return False
        namespace = await self._namespace(org)
        async with self.engine.connect() as conn:
            roles = await q.roles_on(conn, principal.user_id, namespace.id, "")
        return "owner" in roles

    async def _team(self, org: str, team: str) -> tuple[NamespaceRecord, int]:
        namespace = await self._namespace(org)
        async with self.engine.connect() as conn:
            team_id = await q.team_id(conn, namespace.id, team)
        if team_id is None:
            raise NotFoundError(f"no team {team!r} in {org!r}", org=org, team=team)
        return namespace, team_id

    async def add_team(self, org: str, team: str, *, actor: str, address: str = "") -> None:
        problem = team_name_problem(team)
        if problem is not None:
            raise InvalidRequestError(problem, team=team)
        namespace = await self._namespace(org)
        async with self.engine.begin() as conn:
            if not await q.insert_team(conn, namespace.id, team):
                raise AlreadyExistsError(f"team {team!r} exists in {org!r}")
        await self.audit.record(actor, "team-add", f"{org}/{team}", address)

    async def remove_team(self, org: str, team: str, *, actor: str, address: str = "") -> None:
        _, team_id = await self._team(org, team)
        async with self.engine.begin() as conn:
            await q.delete_team(conn, team_id)
        await self.audit.record(actor, "team-rm", f"{org}/{team}", address)

    async def add_member(
        self, org: str, team: str, user: str, *, actor: str, address: str = ""
    ) -> None:
        _, team_id = await self._team(org, team)
        member = await self.user(user)
        async with self.engine.begin() as conn:
            await q.add_member(conn, team_id, member.id)
        await self.audit.record(actor, "member-add", f"{org}/{team}", address, user=user)

    async def remove_member(
        self, org: str, team: str, user: str, *, actor: str, address: str = ""
    ) -> None:
        _, team_id = await self._team(org, team)
        member = await self.user(user)
        async with self.engine.begin() as conn:
            if not await q.remove_member(conn, team_id, member.id):
                raise NotFoundError(f"{user!r} is not in {org}/{team}")
        await self.audit.record(actor, "member-rm", f"{org}/{team}", address, user=user)

    @staticmethod
    def _repository(org: str, repository: str | None) -> str:
        if not repository:
            return ""
        full = repository if "/" in repository else f"{org}/{repository}"
        if repository_of_path(full) != full:
            raise InvalidRequestError(f"invalid repository name {full!r}", repository=full)
        if not full.startswith(f"{org}/"):
            raise InvalidRequestError(f"{full!r} is not in the namespace {org!r}")
        return full

    async def grant(
        self,
        org: str,
        team: str,
        role: str,
        repository: str | None = None,
        *,
        actor: str,
        address: str = "",
    ) -> None:
        """Give a team a role on the whole namespace, or on one of its repositories."""
        if role not in ROLES:
            raise InvalidRequestError(f"roles are {', '.join(ROLES)}", role=role)
        target = self._repository(org, repository)
        namespace, team_id = await self._team(org, team)
        async with self.engine.begin() as conn:
            await q.set_grant(conn, team_id, namespace.id, target, role)
        await self.audit.record(
            actor, "grant", f"{org}/{team}", address, role=role, repository=target or "*"
        )

    async def revoke(
        self, org: str, team: str, repository: str | None = None, *, actor: str, address: str = ""
    ) -> None:
        target = self._repository(org, repository)
        namespace, team_id = await self._team(org, team)
        async with self.engine.begin() as conn:
            if not await q.delete_grant(conn, team_id, namespace.id, target):
                raise NotFoundError("no such grant")
        await self.audit.record(actor, "revoke", f"{org}/{team}", address, repository=target or "*")

    async def set_default_visibility(
        self, namespace: str, public: bool, *, actor: str, address: str = ""
    ) -> None:
        """Whether repositories first pushed to the namespace start public."""
        async with self.engine.begin() as conn:
            namespace_id = await _namespace_id(conn, namespace)
            await q.set_namespace_default(conn, namespace_id, public)
        await self.audit.record(actor, "namespace-default", namespace, address, public=public)

    async def set_namespace_trust(
        self, namespace: str, required: bool, *, actor: str, address: str = ""
    ) -> None:
        """Whether the namespace's repositories without a setting of their own need trust."""
        async with self.engine.begin() as conn:
            namespace_id = await _namespace_id(conn, namespace)
            await hub_queries.set_namespace_trust(conn, namespace_id, required)
        await self.audit.record(
            actor, "namespace-trust", namespace, address, trust_required=required
        )

    # Personal access tokens ---------------------------------------------------------------

    async def create_token(
        self,
        user: str,
        name: str,
        scopes: Iterable[str],
        *,
        expires_at: datetime | None = None,
        actor: str,
        address: str = "",
    ) -> tuple[TokenRecord, str]:
        """A new token and its secret (shown once: only its digest is stored).

        Args:
            expires_at: when it stops working (None: when revoked); within `MAX_TOKEN_LIFETIME`.

        Raises:
            InvalidRequestError: unknown scopes, a bad name, or an expiry not ahead.
        """
        if expires_at is not None and not (
            datetime.now(UTC) < expires_at <= datetime.now(UTC) + MAX_TOKEN_LIFETIME
        ):
            raise InvalidRequestError(
                f"a token expires within {MAX_TOKEN_LIFETIME.days} days from now"
            )
        wanted = sorted(set(scopes))
        unknown = set(wanted) - set(TOKEN_SCOPES)
        if not wanted or unknown:
            raise InvalidRequestError(f"token scopes are {', '.join(TOKEN_SCOPES)}")
        if not name or len(name) > 100:
            raise InvalidRequestError("a token needs a name of at most 100 characters")
        owner = await self.user(user)
        secret = credentials.new_access_token()
        async with self.engine.begin() as conn:
            token_id = await q.insert_token(
                conn, owner.id, name, credentials.token_digest(secret), wanted, expires_at
            )
            record = await q.token_by_id(conn, token_id)
        assert record is not None
        await self.audit.record(
            actor,
            "token-add",
            user,
            address,
            token_id=token_id,
            name=name,
            scopes=wanted,
            expires=None if expires_at is None else expires_at.isoformat(),
        )
        return record, secret

    async def tokens(self, user: str) -> list[TokenRecord]:
        owner = await self.user(user)
        async with self.engine.connect() as conn:
            return await q.tokens_of(conn, owner.id)

    async def revoke_token(
        self, user: str, token_id: int, *, actor: str, address: str = ""
    ) -> None:
        owner = await self.user(user)
        async with self.engine.begin() as conn:
            if not await q.revoke_token(conn, owner.id, token_id):
                raise NotFoundError(f"no active token {token_id} of {user!r}")
        await self.audit.record(actor, "token-revoke", user, address, token_id=token_id)
