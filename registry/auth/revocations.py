"""Whether the account (and access token), or the robot, behind a bearer token still stands.

Bearer tokens are verified without the database, but a user's token names its account
(`uid`, `ust`) and maybe the personal access token it was minted with (`pat`), and a robot's
token names the robot (`rid`, `rst`); this cache asks the database whether they still stand at
most once per `ttl` seconds per binding. A token, robot or account revoked or removed through
this process is refused at once; one revoked or removed elsewhere (the CLI, another hub
process) within `ttl` seconds. An expired robot is refused like a revoked one.

Requests that find an answer out of date while a lookup for the same binding is under way
wait for that lookup instead of starting their own: under load every request of the moment
would otherwise ask the database the same question.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from registry.auth.policy import Principal
from registry.auth.robots import Robot
from registry.auth.tokens import TokenClaims

__all__ = ["RevocationCache"]

# "user" or "robot", its id, its creation stamp, its name, the access-token id (users).
_Key = tuple[str, int, int, str, int | None]
_MAX_ENTRIES = 10000


class RevocationCache:
    """Remembers, for a short time, the principal each token binding stands for.

    Args:
        lookup: the principal a user's token binding stands for, or None when gone (the
            authenticator's `bound_principal`).
        robot_lookup: the robot a robot's token stands for, or None when revoked or expired
            (the authenticator's `bound_robot`).
        ttl: seconds an answer is reused.
    """

    def __init__(
        self,
        lookup: Callable[[TokenClaims], Awaitable[Principal | None]],
        robot_lookup: Callable[[TokenClaims], Awaitable[Robot | None]],
        ttl: float = 1.0,
    ) -> None:
        self.lookup = lookup
        self.robot_lookup = robot_lookup
        self.ttl = ttl
        self._seen: dict[_Key, tuple[Principal | Robot | None, float]] = {}
        self._revoked: set[int] = set()
        self._revoked_robots: set[tuple[int, int]] = set()  # (id, stamp): SQLite reuses ids
        self._pending: dict[_Key, asyncio.Future[Principal | Robot | None]] = {}
        self._generation = 0  # counts removals noted here: older lookups' answers are not kept

    async def holder(self, claims: TokenClaims) -> Principal | Robot | None:
        """The account or robot behind a named token; None when it (or its access token) is
        gone, or the robot expired."""
        key = self._key(claims)
        if key is None or self._revoked_here(claims):
            return None
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[1] < self.ttl:
            holder = seen[0]
            # A cached robot may still expire within the ttl.
            if isinstance(holder, Robot) and holder.is_expired(time.time()):
                return None
            return holder
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = asyncio.ensure_future(self._look_up(key, claims, now))
            pending.add_done_callback(lambda done: self._forget_pending(key, done))
        # Shielded: one waiter cancelled (its client went away) must not cancel the others'.
        found = await asyncio.shield(pending)
        return None if self._revoked_here(claims) else found

    @staticmethod
    def _key(claims: TokenClaims) -> _Key | None:
        if claims.robot is not None:
            return ("robot", claims.robot.user_id, claims.robot.stamp, claims.subject, None)
        if claims.user is not None:
            return ("user", claims.user.user_id, claims.user.stamp, claims.subject, claims.token_id)
        return None

    def _revoked_here(self, claims: TokenClaims) -> bool:
        if claims.robot is not None:
            return (claims.robot.user_id, claims.robot.stamp) in self._revoked_robots
        return claims.token_id is not None and claims.token_id in self._revoked

    async def _look_up(
        self, key: _Key, claims: TokenClaims, now: float
    ) -> Principal | Robot | None:
        generation = self._generation
        found: Principal | Robot | None
        if claims.robot is not None:
            found = await self.robot_lookup(claims)
        else:
            found = await self.lookup(claims)
        if generation == self._generation:  # no removal noted while it ran
            if len(self._seen) > _MAX_ENTRIES:
                self._seen.clear()
            self._seen[key] = (found, now)
        return found

    def _forget_pending(self, key: _Key, done: asyncio.Future[Principal | Robot | None]) -> None:
        if self._pending.get(key) is done:
            del self._pending[key]

    def robot_revoked(self, robot_id: int, stamp: int) -> None:
        """Note a robot revoked by this process (its tokens are refused from now on).

        Args:
            robot_id: its id.
            stamp: its creation stamp (a later robot may get the same id).
        """
        self._revoked_robots.add((robot_id, stamp))

    def revoked(self, token_id: int) -> None:
        """Note a revocation made by this process (refused from now on)."""
        self._revoked.add(token_id)

    def account_removed(self) -> None:
        """Note an account removal made by this process: ask the database again (lookups
        under way may have read before the removal: later requests do not wait for them)."""
        self._generation += 1
        self._seen.clear()
        self._pending.clear()
