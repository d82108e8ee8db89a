"""Query functions over accounts: users, namespaces, teams, grants, access tokens, signing keys.

They take a connection and return frozen values, never ORM rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.queries import as_utc, insert_ignore_statement
from registry.db.tables import (
    access_tokens,
    grants,
    namespaces,
    signing_keys,
    team_members,
    teams,
    users,
)

__all__ = [
    "GrantRecord",
    "NamespaceRecord",
    "SigningKeyRecord",
    "TeamRecord",
    "TokenRecord",
    "UserRecord",
]


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    name: str
    password_hash: str
    is_admin: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NamespaceRecord:
    id: int
    name: str
    kind: str
    default_public: bool


@dataclass(frozen=True, slots=True)
class TeamRecord:
    id: int
    name: str
    members: tuple[str, ...]
    grants: tuple[tuple[str, str], ...]  # (repository or "", role)


@dataclass(frozen=True, slots=True)
class GrantRecord:
    namespace: str
    repository: str  # "" for the whole namespace
    role: str


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    user_id: int
    name: str
    scopes: frozenset[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None  # None: until revoked

    def is_expired(self, at: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at


def now() -> datetime:
    return datetime.now(UTC)


async def insert_ignore(
    conn: AsyncConnection, table: Any, values: dict[str, Any], keys: Sequence[str]
) -> bool:
    """Insert unless a row with the same keys exists; True when this call inserted."""
    statement = insert_ignore_statement(conn.dialect.name, table, tuple(keys))
    result = await conn.execute(statement, values)
    return bool(result.rowcount)


# Users and namespaces ---------------------------------------------------------------------


def _user(row: Any) -> UserRecord:
    return UserRecord(row.id, row.name, row.password_hash, bool(row.is_admin), row.created_at)


async def user_by_name(conn: AsyncConnection, name: str) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.name == name))).first()
    return _user(row) if row else None


async def user_by_id(conn: AsyncConnection, user_id: int) -> UserRecord | None:
    row = (await conn.execute(select(users).where(users.c.id == user_id))).first()
    return _user(row) if row else None


async def list_users(conn: AsyncConnection) -> list[UserRecord]:
    return [_user(row) for row in await conn.execute(select(users).order_by(users.c.name))]


async def count_users(conn: AsyncConnection) -> int:
    return int(await conn.scalar(select(func.count()).select_from(users)) or 0)


async def insert_user(conn: AsyncConnection, name: str, password_hash: str, is_admin: bool) -> bool:
    """Create a user and its namespace; False when the name is taken."""
    if not await insert_namespace(conn, name, "user", False):
        return False
    return await insert_ignore(
        conn,
        users,
        {"name": name, "password_hash": password_hash, "is_admin": is_admin, "created_at": now()},
        ["name"],
    )


async def set_password_hash(conn: AsyncConnection, user_id: int, password_hash: str) -> None:
    await conn.execute(
        update(users).where(users.c.id == user_id).values(password_hash=password_hash)
    )


async def set_admin(conn: AsyncConnection, user_id: int, is_admin: bool) -> None:
    await conn.execute(update(users).where(users.c.id == user_id).values(is_admin=is_admin))


async def delete_user(conn: AsyncConnection, user_id: int, name: str) -> None:
    await conn.execute(delete(users).where(users.c.id == user_id))
    await conn.execute(
        delete(namespaces).where(namespaces.c.name == name, namespaces.c.kind == "user")
    )


_NAMESPACE_BY_NAME = select(namespaces).where(namespaces.c.name == bindparam("name"))


async def namespace_by_name(conn: AsyncConnection, name: str) -> NamespaceRecord | None:
    row = (await conn.execute(_NAMESPACE_BY_NAME, {"name": name})).first()
    return NamespaceRecord(row.id, row.name, row.kind, bool(row.default_public)) if row else None


async def namespaces_by_names(
    conn: AsyncConnection, names: Sequence[str]
) -> dict[str, NamespaceRecord]:
    if not names:
        return {}
    rows = await conn.execute(select(namespaces).where(namespaces.c.name.in_(set(names))))
    return {r.name: NamespaceRecord(r.id, r.name, r.kind, bool(r.default_public)) for r in rows}


async def insert_namespace(
    conn: AsyncConnection, name: str, kind: str, default_public: bool
) -> bool:
    return await insert_ignore(
        conn,
        namespaces,
        {"name": name, "kind": kind, "default_public": default_public, "created_at": now()},
        ["name"],
    )


async def list_namespaces(conn: AsyncConnection, kind: str) -> list[NamespaceRecord]:
    rows = await conn.execute(
        select(namespaces).where(namespaces.c.kind == kind).order_by(namespaces.c.name)
    )
    return [NamespaceRecord(r.id, r.name, r.kind, bool(r.default_public)) for r in rows]


async def set_namespace_default(conn: AsyncConnection, namespace_id: int, public: bool) -> None:
    await conn.execute(
        update(namespaces).where(namespaces.c.id == namespace_id).values(default_public=public)
    )


async def delete_namespace(conn: AsyncConnection, namespace_id: int) -> None:
    await conn.execute(delete(namespaces).where(namespaces.c.id == namespace_id))


# Teams and grants -------------------------------------------------------------------------


async def team_id(conn: AsyncConnection, namespace_id: int, name: str) -> int | None:
    return await conn.scalar(
        select(teams.c.id).where(teams.c.namespace_id == namespace_id, teams.c.name == name)
    )


async def insert_team(conn: AsyncConnection, namespace_id: int, name: str) -> bool:
    return await insert_ignore(
        conn,
        teams,
        {"namespace_id": namespace_id, "name": name, "created_at": now()},
        ["namespace_id", "name"],
    )


async def delete_team(conn: AsyncConnection, team: int) -> None:
    await conn.execute(delete(teams).where(teams.c.id == team))


async def list_teams(conn: AsyncConnection, namespace_id: int) -> list[TeamRecord]:
    team_rows = list(
        await conn.execute(
            select(teams.c.id, teams.c.name)
            .where(teams.c.namespace_id == namespace_id)
            .order_by(teams.c.name)
        )
    )
    ids = [row.id for row in team_rows]
    members: dict[int, list[str]] = {i: [] for i in ids}
    granted: dict[int, list[tuple[str, str]]] = {i: [] for i in ids}
    if ids:
        for row in await conn.execute(
            select(team_members.c.team_id, users.c.name)
            .join(users, users.c.id == team_members.c.user_id)
            .where(team_members.c.team_id.in_(ids))
            .order_by(users.c.name)
        ):
            members[row.team_id].append(row.name)
        for grant in await conn.execute(
            select(grants.c.team_id, grants.c.repository, grants.c.role)
            .where(grants.c.team_id.in_(ids))
            .order_by(grants.c.repository)
        ):
            granted[grant.team_id].append((grant.repository, grant.role))
    return [
        TeamRecord(row.id, row.name, tuple(members[row.id]), tuple(granted[row.id]))
        for row in team_rows
    ]


async def add_member(conn: AsyncConnection, team: int, user_id: int) -> None:
    await insert_ignore(
        conn, team_members, {"team_id": team, "user_id": user_id}, ["team_id", "user_id"]
    )


async def remove_member(conn: AsyncConnection, team: int, user_id: int) -> bool:
    result = await conn.execute(
        delete(team_members).where(
            team_members.c.team_id == team, team_members.c.user_id == user_id
        )
    )
    return bool(result.rowcount)


async def set_grant(
    conn: AsyncConnection, team: int, namespace_id: int, repository: str, role: str
) -> None:
    result = await conn.execute(
        update(grants)
        .where(
            grants.c.team_id == team,
            grants.c.namespace_id == namespace_id,
            grants.c.repository == repository,
        )
        .values(role=role)
    )
    if not result.rowcount:
        await insert_ignore(
            conn,
            grants,
            {
                "team_id": team,
                "namespace_id": namespace_id,
                "repository": repository,
                "role": role,
                "created_at": now(),
            },
            ["team_id", "namespace_id", "repository"],
        )


async def delete_grant(
    conn: AsyncConnection, team: int, namespace_id: int, repository: str
) -> bool:
    result = await conn.execute(
        delete(grants).where(
            grants.c.team_id == team,
            grants.c.namespace_id == namespace_id,
            grants.c.repository == repository,
        )
    )
    return bool(result.rowcount)


async def roles_on(
    conn: AsyncConnection, user_id: int, namespace_id: int, repository: str
) -> list[str]:
    """Roles the user holds through teams on the namespace or on this one repository."""
    rows = await conn.execute(
        select(grants.c.role)
        .join(team_members, team_members.c.team_id == grants.c.team_id)
        .where(
            team_members.c.user_id == user_id,
            grants.c.namespace_id == namespace_id,
            grants.c.repository.in_(["", repository]),
        )
    )
    return [row[0] for row in rows]


async def grants_of_user(conn: AsyncConnection, user_id: int) -> list[GrantRecord]:
    """Every grant reaching the user through a team."""
    rows = await conn.execute(
        select(namespaces.c.name, grants.c.repository, grants.c.role)
        .join(team_members, team_members.c.team_id == grants.c.team_id)
        .join(namespaces, namespaces.c.id == grants.c.namespace_id)
        .where(team_members.c.user_id == user_id)
    )
    return [GrantRecord(*row) for row in rows]


# Access tokens ----------------------------------------------------------------------------


def _token(row: Any) -> TokenRecord:
    return TokenRecord(
        row.id,
        row.user_id,
        row.name,
        frozenset(filter(None, row.scopes.split(","))),
        row.created_at,
        row.last_used_at,
        row.revoked_at,
        None if row.expires_at is None else as_utc(row.expires_at),
    )


async def insert_token(
    conn: AsyncConnection,
    user_id: int,
    name: str,
    digest: str,
    scopes: Sequence[str],
    expires_at: datetime | None = None,
) -> int:
    result = await conn.execute(
        access_tokens.insert().values(
            user_id=user_id,
            name=name,
            token_hash=digest,
            scopes=",".join(sorted(scopes)),
            created_at=now(),
            expires_at=expires_at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def token_by_digest(conn: AsyncConnection, digest: str) -> TokenRecord | None:
    row = (
        await conn.execute(select(access_tokens).where(access_tokens.c.token_hash == digest))
    ).first()
    return _token(row) if row else None


async def token_by_id(conn: AsyncConnection, token_id: int) -> TokenRecord | None:
    row = (await conn.execute(select(access_tokens).where(access_tokens.c.id == token_id))).first()
    return _token(row) if row else None


async def tokens_of(conn: AsyncConnection, user_id: int) -> list[TokenRecord]:
    rows = await conn.execute(
        select(access_tokens).where(access_tokens.c.user_id == user_id).order_by(access_tokens.c.id)
    )
    return [_token(row) for row in rows]


async def revoke_token(conn: AsyncConnection, user_id: int, token_id: int) -> bool:
    result = await conn.execute(
        update(access_tokens)
        .where(
            access_tokens.c.id == token_id,
            access_tokens.c.user_id == user_id,
            access_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=now())
    )
    return bool(result.rowcount)


async def touch_token(conn: AsyncConnection, token_id: int) -> None:
    await conn.execute(
        update(access_tokens).where(access_tokens.c.id == token_id).values(last_used_at=now())
    )


# Token-signing keys -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SigningKeyRecord:
    """A stored token-signing key: its id, its sealed (or, from old versions, PEM) private key."""

    kid: str
    stored: str
    created_at: datetime


async def signing_keys_oldest_first(conn: AsyncConnection) -> list[SigningKeyRecord]:
    """Every signing key, oldest first (the newest signs; all verify)."""
    rows = await conn.execute(
        select(signing_keys.c.kid, signing_keys.c.private_pem, signing_keys.c.created_at).order_by(
            signing_keys.c.created_at, signing_keys.c.kid
        )
    )
    return [SigningKeyRecord(row.kid, row.private_pem, as_utc(row.created_at)) for row in rows]


async def lock_signing_keys(conn: AsyncConnection) -> None:
    """Hold off other writers of `signing_keys` until this transaction ends (call it first)."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
    else:
        # SQLite locks the whole database for a writer; take the write lock before reading.
        await conn.exec_driver_sql("BEGIN IMMEDIATE")


async def insert_signing_key(
    conn: AsyncConnection, kid: str, stored: str, created_at: datetime | None = None
) -> None:
    await insert_ignore(
        conn,
        signing_keys,
        {"kid": kid, "private_pem": stored, "created_at": created_at or now()},
        ["kid"],
    )


async def replace_stored_signing_key(conn: AsyncConnection, kid: str, old: str, new: str) -> bool:
    """Store `new` for `kid` if it still holds `old`; True when this call replaced it."""
    result = await conn.execute(
        update(signing_keys)
        .where(signing_keys.c.kid == kid, signing_keys.c.private_pem == old)
        .values(private_pem=new)
    )
    return bool(result.rowcount)


async def delete_signing_keys(conn: AsyncConnection, kids: Sequence[str]) -> None:
    await conn.execute(delete(signing_keys).where(signing_keys.c.kid.in_(list(kids))))

