"""Server-side sessions of the web interface.

A session cookie holds 32 random bytes; the database keeps only their SHA-256 digest, the user
and the fingerprint of the password used to sign in. Every request looks the session up with
its user, so a deleted user, a changed password or a signed-out session stops working at once,
on every hub sharing the database.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.authenticator import password_fingerprint
from registry.auth.policy import Principal
from registry.db import account_queries, session_queries

logger = logging.getLogger(__name__)

__all__ = ["SESSION_LIFETIME", "SessionStore"]

SESSION_LIFETIME = timedelta(hours=12)


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class SessionStore:
    """Creates, resolves and ends web sessions.

    Args:
        engine: the hub database.
        lifetime: how long a session lasts after sign-in.
    """

    def __init__(self, engine: AsyncEngine, lifetime: timedelta = SESSION_LIFETIME) -> None:
        self.engine = engine
        self.lifetime = lifetime

    async def start(self, principal: Principal) -> str:
        """A new session for a user signed in with a password; returns the cookie value."""
        cookie = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            user = await account_queries.user_by_id(conn, principal.user_id)
            credential = password_fingerprint(user.password_hash if user else "")
            await session_queries.delete_expired(conn, now)
            await session_queries.insert_session(
                conn, _digest(cookie), principal.user_id, credential, now + self.lifetime
            )
        return cookie

    async def principal(self, cookie: str) -> Principal | None:
        """The user a session cookie stands for, or None when the session no longer holds."""
        async with self.engine.connect() as conn:
            record = await session_queries.session_user(conn, _digest(cookie))
        if record is None:
            return None
        if record.expires_at <= datetime.now(UTC) or record.credential != password_fingerprint(
            record.password_hash
        ):
            await self.end(cookie)
            return None
        return Principal(record.user_id, record.user_name, record.is_admin)

    async def end(self, cookie: str) -> None:
        """Forget the session (signing out)."""
        async with self.engine.begin() as conn:
            await session_queries.delete_session(conn, _digest(cookie))
