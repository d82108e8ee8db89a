"""Checking credentials: passwords, personal access tokens and refresh tokens -> `Principal`.

A password check is argon2 (tens of milliseconds, run in a worker thread), so a verified
(user, password) pair is remembered as an HMAC under a per-process key together with the hash
it matched: a later request with the same pair costs one user lookup, and a password change
(new hash) or a removed user takes effect at once. Access tokens are found by their SHA-256
digest in one indexed query on every use, so a revoked token is refused at once. Both lookups
run on the hot-read path (`registry.db.auth_reads`): no worker thread on SQLite.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth import credentials
from registry.auth.policy import Principal
from registry.auth.throttle import LoginThrottle
from registry.auth.tokens import InvalidTokenError, TokenVerifier
from registry.db import account_queries, auth_reads
from registry.db.hotreads import HotReads
from registry.errors import UnauthorizedError
from registry.hub.audit import AuditLog

logger = logging.getLogger(__name__)

__all__ = ["Authenticator", "password_fingerprint"]

_VERIFIED_CACHE_SIZE = 1024


def password_fingerprint(password_hash: str) -> str:
    """What a refresh token remembers of the password it came from: it dies when that changes."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


class Authenticator:
    """Turns credentials into principals, with throttling and an audit trail of logins.

    Args:
        engine: the hub database.
        throttle: failed-login counters.
        audit: where logins and failures are recorded.
        reads: the hot-read path for the per-request lookups.
    """

    def __init__(
        self, engine: AsyncEngine, throttle: LoginThrottle, audit: AuditLog, reads: HotReads
    ) -> None:
        self.engine = engine
        self.reads = reads
        self.throttle = throttle
        self.audit = audit
        self._mac_key = secrets.token_bytes(32)
        self._verified: OrderedDict[tuple[str, bytes], str] = OrderedDict()

    async def login(
        self, username: str, secret: str, address: str, *, record: bool = False
    ) -> Principal:
        """The principal behind a user name and a password or access token.

        Args:
            username: the account name.
            secret: its password, or one of its personal access tokens.
            address: the client address (for throttling and the audit log).
            record: audit a successful login (the token endpoint does; per-request basic
                auth does not, or every pull would be a login).

        Raises:
            UnauthorizedError: wrong name, password or token, or a revoked token.
            TooManyRequestsError: too many failed logins for the account or address.
        """
        if credentials.is_access_token(secret):
            principal = await self._token_login(username, secret)
        else:
            principal = await self._password_login(username, secret, address)
        if principal is None:
            await self.throttle.failed(username, address)
            await self.audit.record(username or "-", "login-failed", username, address)
            raise UnauthorizedError("incorrect username or password")
        if record:
            await self.throttle.succeeded(username)
            if principal.token_id is not None:
                # "last used" counts logins with the token, not every request it authorises.
                async with self.engine.begin() as conn:
                    await account_queries.touch_token(conn, principal.token_id)
            await self.audit.record(
                principal.name,
                "login",
                principal.name,
                address,
                method="token" if principal.token_id is not None else "password",
                token_id=principal.token_id,
            )
        return principal

    async def _token_login(self, username: str, token: str) -> Principal | None:
        rows = await self.reads.fetch(
            auth_reads.TOKEN_LOGIN, {"digest": credentials.token_digest(token)}
        )
        if not rows:
            return None
        token_id, scopes, revoked_at, user_id, name, is_admin = rows[0]
        if revoked_at is not None or name != username:
            return None
        return Principal(
            user_id, name, bool(is_admin), token_id, frozenset(filter(None, scopes.split(",")))
        )

    async def _password_login(self, username: str, password: str, address: str) -> Principal | None:
        mac = hmac.digest(self._mac_key, f"{username}\0{password}".encode(), "sha256")
        rows = await self.reads.fetch(auth_reads.USER_LOGIN, {"name": username})
        if not rows:
            await self.throttle.check(username, address)
            return None
        user_id, name, password_hash, is_admin = rows[0]
        if self._verified.get((username, mac)) == password_hash:
            return Principal(user_id, name, bool(is_admin))
        await self.throttle.check(username, address)
        ok = await asyncio.to_thread(credentials.verify_password, password_hash, password)
        if not ok:
            return None
        self._verified[(username, mac)] = password_hash
        if len(self._verified) > _VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return Principal(user_id, name, bool(is_admin))

    async def principal(self, name: str, token_id: int | None) -> Principal | None:
        """The principal a bearer token names, or None when the user or its token is gone."""
        async with self.engine.connect() as conn:
            user = await account_queries.user_by_name(conn, name)
            if user is None:
                return None
            if token_id is None:
                return Principal(user.id, user.name, user.is_admin)
            record = await account_queries.token_by_id(conn, token_id)
        if record is None or record.revoked_at is not None or record.user_id != user.id:
            return None
        return Principal(user.id, user.name, user.is_admin, record.id, record.scopes)

    async def refresh(self, verifier: TokenVerifier, token: str, now: int) -> Principal:
        """The principal a refresh token still stands for.

        Raises:
            UnauthorizedError: invalid or expired, the user is gone, its access token was
                revoked or its password changed since.
        """
        try:
            claims = await verifier.check(token, now=now, use="refresh")
        except InvalidTokenError as exc:
            raise UnauthorizedError("invalid refresh token", reason=str(exc)) from exc
        principal = await self.principal(claims.subject, claims.token_id)
        if principal is None:
            raise UnauthorizedError("the refresh token's credentials were revoked")
        if claims.token_id is None:
            async with self.engine.connect() as conn:
                user = await account_queries.user_by_id(conn, principal.user_id)
            if user is None or claims.extra.get("cred") != password_fingerprint(user.password_hash):
                raise UnauthorizedError("the password changed; log in again")
        return principal

    async def fingerprint(self, principal: Principal) -> str:
        """The credential fingerprint a refresh token for `principal` carries."""
        if principal.token_id is not None:
            return f"pat:{principal.token_id}"
        async with self.engine.connect() as conn:
            user = await account_queries.user_by_id(conn, principal.user_id)
        return password_fingerprint(user.password_hash if user else "")
