"""Checking credentials: passwords, personal access tokens and refresh tokens -> `Principal`.

A password check is argon2 (tens of milliseconds, run in a worker thread), so a verified
(user, password) pair is remembered as an HMAC under a per-process key together with the hash
it matched: a later request with the same pair costs one user lookup, and a password change
(new hash) or a removed user takes effect at once. Access tokens are found by their SHA-256
digest in one indexed query on every use, so a revoked token is refused at once. Both lookups
run on the hot-read path (`registry.db.auth_reads`): no worker thread on SQLite.

Bearer and refresh tokens name their account by id and creation stamp (`UserBinding`);
`bound_principal` finds that very account again, so a token dies with its account even when a
new account takes the name (or, on SQLite, the id).

Robot accounts (`robot$<org>+<name>`) log in with their secret through `robot_login`, found by
its digest like an access token and refused once expired or revoked; they never become a
`Principal` (no account code can take a robot's id for a user's). Their bearer tokens name the
robot (`bound_robot`). A robot's use is recorded at most once a minute per process.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth import credentials
from registry.auth.policy import Principal
from registry.auth.robots import Robot
from registry.auth.throttle import LoginThrottle
from registry.auth.tokens import InvalidTokenError, TokenClaims, TokenVerifier, UserBinding
from registry.db import account_queries, auth_reads, robot_queries
from registry.db.account_queries import TokenRecord, UserRecord
from registry.db.hotreads import HotReads
from registry.db.queries import as_utc
from registry.errors import DeniedError, UnauthorizedError
from registry.hub.audit import AuditLog
from registry.hub.names import is_namespace_name, robot_name, robot_owner

logger = logging.getLogger(__name__)

__all__ = ["Authenticator", "account_stamp", "binding", "password_fingerprint"]

_VERIFIED_CACHE_SIZE = 1024
_TOUCH_SECONDS = 60.0  # how often a robot's "last used" is written, at most


def account_stamp(created_at: datetime) -> int:
    """An account's creation time in microseconds (SQLite hands back naive UTC datetimes)."""
    delta = as_utc(created_at) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _as_datetime(value: datetime | str) -> datetime:
    """A timestamp column as read: SQLite's hot reads hand back the stored text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value



def binding(principal: Principal) -> UserBinding:
    """What a token minted for `principal` carries to name its account."""
    return UserBinding(principal.user_id, principal.stamp)


def _principal(user: UserRecord, token: TokenRecord | None = None) -> Principal:
    stamp = account_stamp(user.created_at)
    if token is None:
        return Principal(user.id, user.name, user.is_admin, stamp=stamp)
    return Principal(user.id, user.name, user.is_admin, token.id, token.scopes, stamp=stamp)


def _refuse_invalid_name(principal: Principal) -> None:
    """Accounts created under older, looser naming rules may not sign in.

    Their names could read as a registry host (`carol.dev`, `localhost`), so their namespace
    holds no repository the hub will serve; an admin recreates the account under a valid name.

    Raises:
        DeniedError: the account's name is not a valid namespace name.
    """
    if not is_namespace_name(principal.name):
        raise DeniedError(
            f"the account name {principal.name!r} is no longer valid (names use lowercase"
            " letters, digits and single '-' or '_'); ask an admin to recreate the account",
            name=principal.name,
        )


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
        self._robot_touched: dict[int, float] = {}

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
            TooManyRequestsError: this address failed too often on this account.
        """
        # Judged before anything about the secret is learnt, known names or not; access tokens
        # cannot be guessed, so an account under attack slows only password checks.
        is_token = credentials.is_access_token(secret)
        failures = await self.throttle.check(username, address, slow=not is_token)
        if is_token:
            principal = await self._token_login(username, secret)
        else:
            principal = await self._password_login(username, secret)
        if principal is None:
            await self.throttle.failed(username, address)
            await self.audit.record(username or "-", "login-failed", username, address)
            raise UnauthorizedError("incorrect username or password")
        _refuse_invalid_name(principal)
        if failures.pair:
            await self.throttle.succeeded(username, address)
        if record:
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

    async def robot_login(
        self, username: str, secret: str, address: str, *, record: bool = False
    ) -> Robot:
        """The robot account behind a robot login name and its secret.

        Args:
            username: `robot$<org>+<name>`.
            secret: the robot's secret.
            address: the client address (for throttling and the audit log).
            record: audit the login (the token endpoint does; per-request basic auth does not).

        Raises:
            UnauthorizedError: wrong name or secret, or the robot expired or was revoked.
            TooManyRequestsError: this address failed too often on this robot.
        """
        # Secrets are unguessable, so an attacked robot is never slowed, only the pair refused.
        failures = await self.throttle.check(username, address, slow=False)
        robot = await self._robot(username, secret)
        if robot is None or robot.is_expired(time.time()):
            await self.throttle.failed(username, address)
            await self.audit.record(username or "-", "login-failed", username, address)
            raise UnauthorizedError("incorrect username or password, or the robot expired")
        if failures.pair:
            await self.throttle.succeeded(username, address)
        if record:
            await self.audit.record(robot.login, "login", robot.login, address, method="robot")
        await self._touch_robot(robot.robot_id, force=record)
        return robot

    async def _robot(self, username: str, secret: str) -> Robot | None:
        if robot_owner(username) is None:
            return None
        rows = await self.reads.fetch(
            auth_reads.ROBOT_LOGIN, {"digest": credentials.token_digest(secret)}
        )
        if not rows:
            return None
        robot_id, org, name, patterns, actions, expires_at, created_at = rows[0]
        if robot_name(org, name) != username:
            return None
        return Robot(
            robot_id=robot_id,
            org=org,
            name=name,
            login=username,
            patterns=robot_queries.parse_patterns(patterns),
            actions=robot_queries.parse_actions(actions),
            expires_at=int(robot_queries.utc(expires_at).timestamp()),
            stamp=account_stamp(_as_datetime(created_at)),
        )

    async def _touch_robot(self, robot_id: int, *, force: bool) -> None:
        """Record a robot's use: every login, and basic-auth requests once a minute."""
        now = time.monotonic()
        last = self._robot_touched.get(robot_id)
        if not force and last is not None and now - last < _TOUCH_SECONDS:
            return
        self._robot_touched[robot_id] = now
        if len(self._robot_touched) > _VERIFIED_CACHE_SIZE:
            self._robot_touched.clear()
        async with self.engine.begin() as conn:
            await robot_queries.touch_robot(conn, robot_id)

    async def bound_robot(self, claims: TokenClaims) -> Robot | None:
        """The robot a robot's bearer token stands for, or None when it was revoked, expired
        or replaced by a new robot of the same name."""
        if claims.robot is None:
            return None
        async with self.engine.connect() as conn:
            record = await robot_queries.robot_by_id(conn, claims.robot.user_id)
        if record is None:
            return None
        robot = Robot(
            robot_id=record.id,
            org=record.org,
            name=record.name,
            login=robot_name(record.org, record.name),
            patterns=record.patterns,
            actions=record.actions,
            expires_at=int(record.expires_at.timestamp()),
            stamp=account_stamp(record.created_at),
        )
        if robot.login != claims.subject or robot.stamp != claims.robot.stamp:
            return None
        return None if robot.is_expired(time.time()) else robot

    async def _token_login(self, username: str, token: str) -> Principal | None:
        rows = await self.reads.fetch(
            auth_reads.TOKEN_LOGIN, {"digest": credentials.token_digest(token)}
        )
        if not rows:
            return None
        token_id, scopes, revoked_at, expires_at, user_id, name, is_admin, created_at = rows[0]
        if revoked_at is not None or name != username:
            return None
        if expires_at is not None and as_utc(_as_datetime(expires_at)) <= datetime.now(UTC):
            return None
        return Principal(
            user_id,
            name,
            bool(is_admin),
            token_id,
            frozenset(filter(None, scopes.split(","))),
            stamp=account_stamp(_as_datetime(created_at)),
        )

    async def _password_login(self, username: str, password: str) -> Principal | None:
        mac = hmac.digest(self._mac_key, f"{username}\0{password}".encode(), "sha256")
        rows = await self.reads.fetch(auth_reads.USER_LOGIN, {"name": username})
        if not rows:
            return None
        user_id, name, password_hash, is_admin, created_at = rows[0]
        if self._verified.get((username, mac)) != password_hash:
            ok = await asyncio.to_thread(credentials.verify_password, password_hash, password)
            if not ok:
                return None
        self._verified[(username, mac)] = password_hash
        if len(self._verified) > _VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        stamp = account_stamp(_as_datetime(created_at))
        return Principal(user_id, name, bool(is_admin), stamp=stamp)

    async def bound_principal(self, claims: TokenClaims) -> Principal | None:
        """The principal a user's token stands for, or None when its account or its access
        token is gone (a new account of the same name is another account)."""
        if claims.user is None:
            return None
        async with self.engine.connect() as conn:
            user = await account_queries.user_by_id(conn, claims.user.user_id)
            if (
                user is None
                or user.name != claims.subject
                or account_stamp(user.created_at) != claims.user.stamp
            ):
                return None
            if claims.token_id is None:
                return _principal(user)
            record = await account_queries.token_by_id(conn, claims.token_id)
        if record is None or record.revoked_at is not None or record.user_id != user.id:
            return None
        if record.is_expired(datetime.now(UTC)):  # its bearer tokens end with it
            return None
        return _principal(user, record)

    async def password_matches(self, principal: Principal, password: str) -> bool:
        """Whether `password` is the account's current password (argon2, off the event loop)."""
        async with self.engine.connect() as conn:
            user = await account_queries.user_by_id(conn, principal.user_id)
        if user is None:
            return False
        return await asyncio.to_thread(credentials.verify_password, user.password_hash, password)

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
        principal = await self.bound_principal(claims)
        if principal is None:
            raise UnauthorizedError("the refresh token's credentials were revoked")
        if claims.token_id is None:
            async with self.engine.connect() as conn:
                user = await account_queries.user_by_id(conn, principal.user_id)
            if user is None or claims.extra.get("cred") != password_fingerprint(user.password_hash):
                raise UnauthorizedError("the password changed; log in again")
        _refuse_invalid_name(principal)
        return principal

    async def fingerprint(self, principal: Principal) -> str:
        """The credential fingerprint a refresh token for `principal` carries."""
        if principal.token_id is not None:
            return f"pat:{principal.token_id}"
        async with self.engine.connect() as conn:
            user = await account_queries.user_by_id(conn, principal.user_id)
        return password_fingerprint(user.password_hash if user else "")
