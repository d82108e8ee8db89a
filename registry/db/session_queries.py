"""Queries on `web_sessions`: the signed-in browsers of the web interface.

Scope: rows keyed by the digest of a session cookie, joined with their user. Not the cookie,
its lifetime rules or the credential check (`registry.web.sessions` decides those).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from registry.db.tables import users, web_sessions

__all__ = ["SessionRecord", "delete_expired", "delete_session", "insert_session", "session_user"]


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session with the current facts of its user."""

    user_id: int
    user_name: str
    is_admin: bool
    password_hash: str
    credential: str  # the password fingerprint at sign-in
    expires_at: datetime


async def insert_session(
    conn: AsyncConnection, id_digest: str, user_id: int, credential: str, expires_at: datetime
) -> None:
    await conn.execute(
        insert(web_sessions).values(
            id_digest=id_digest,
            user_id=user_id,
            credential=credential,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
    )


async def session_user(conn: AsyncConnection, id_digest: str) -> SessionRecord | None:
    """The session and its user, or None when either is gone."""
    row = (
        await conn.execute(
            select(
                users.c.id,
                users.c.name,
                users.c.is_admin,
                users.c.password_hash,
                web_sessions.c.credential,
                web_sessions.c.expires_at,
            )
            .select_from(web_sessions.join(users, users.c.id == web_sessions.c.user_id))
            .where(web_sessions.c.id_digest == id_digest)
        )
    ).first()
    if row is None:
        return None
    expires_at = row.expires_at
    if expires_at.tzinfo is None:  # SQLite hands back naive UTC
        expires_at = expires_at.replace(tzinfo=UTC)
    return SessionRecord(
        row.id, row.name, bool(row.is_admin), row.password_hash, row.credential, expires_at
    )


async def delete_session(conn: AsyncConnection, id_digest: str) -> None:
    await conn.execute(delete(web_sessions).where(web_sessions.c.id_digest == id_digest))


async def delete_expired(conn: AsyncConnection, now: datetime) -> None:
    await conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now))
