"""Login throttling that slows attackers down without letting them lock their victims out.

Failures live in the database so every hub process (and every replica) counts the same ones,
each with the account name tried and the client address, over a sliding window. Three limits,
each judged over that window:

- **Per account and address** (`per_pair`): an address that failed `per_pair` times on one
  account is refused (429) for that account, even with the right password, until its
  failures age out. Refusing the pair, not the account, means a guesser locks out only itself:
  the account's owner, from anywhere else, still logs in.
- **Per account** (`per_account`): once an account collects that many failures from all
  addresses together, every password check for it waits `slowdown` seconds first (access
  tokens, which cannot be guessed, do not wait). Guessing from many addresses gets slow;
  nobody is refused. (The wait does not cap parallel guesses;
  the per-pair and per-address limits bound what each address may try.)
- **Per address** (`per_address`): an address with that many failures in all (a guesser
  spraying names, or a NAT or proxy with one) keeps only one try per account: it is refused
  for every account it has failed on, while a correct login to an account it has not been
  failing on still succeeds, so users behind the same NAT keep logging in.

Wrong access tokens count as failures like wrong passwords. A good login forgets that
address's failures on that account only (not the account's total, which a victim's login must
not reset for the attacker). The same checks serve the token endpoint and basic auth on every
route (`registry.auth.authenticator`); a web login is meant to call them too.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import audit_queries
from registry.db.audit_queries import FailureCounts
from registry.db.auth_reads import LOGIN_FAILURES
from registry.db.hotreads import HotReads
from registry.errors import TooManyRequestsError

logger = logging.getLogger(__name__)

__all__ = ["LoginLimits", "LoginThrottle", "Verdict", "judge"]


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """The throttle's limits (failure counts within `window_seconds`)."""

    window_seconds: int
    per_pair: int
    per_account: int
    per_address: int
    slowdown_seconds: float


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a login attempt: refuse it, or check it after `delay` seconds."""

    refuse: bool
    delay: float = 0.0


def judge(counts: FailureCounts, limits: LoginLimits) -> Verdict:
    """The verdict for an attempt, from the failures counted in the window (pure)."""
    pair_limit = 1 if counts.address >= limits.per_address else limits.per_pair
    if counts.pair >= pair_limit:
        return Verdict(refuse=True)
    if counts.account >= limits.per_account:
        return Verdict(refuse=False, delay=limits.slowdown_seconds)
    return Verdict(refuse=False)


class LoginThrottle:
    """Counts failed logins and judges each attempt (see the module docstring).

    Args:
        engine: the hub database.
        limits: the limits.
    """

    def __init__(self, engine: AsyncEngine, reads: HotReads, limits: LoginLimits) -> None:
        self.engine = engine
        self.reads = reads  # every basic-auth request is checked: the hot-read path
        self.limits = limits
        self.window = timedelta(seconds=limits.window_seconds)

    async def check(self, account: str, address: str, *, slow: bool = True) -> FailureCounts:
        """Return when a login attempt may be checked (after a delay if the account is under
        attack and `slow`: passwords are; unguessable access tokens need not be).

        Returns:
            The failures counted (a good login clears the pair's, when there are some).

        Raises:
            TooManyRequestsError: this address is refused for this account for now.
        """
        since = datetime.now(UTC) - self.window
        params = {"account": account, "address": address, "since": since}
        pair, of_account, from_address = (await self.reads.fetch(LOGIN_FAILURES, params))[0]
        counts = FailureCounts(int(pair), int(of_account), int(from_address))
        verdict = judge(counts, self.limits)
        if verdict.refuse:
            logger.warning("login throttled for account %r from %s", account, address)
            seconds = self.limits.window_seconds
            exc = TooManyRequestsError(
                "too many failed logins from this address; try again later", retry_after=seconds
            )
            exc.headers = {"Retry-After": str(seconds)}  # type: ignore[attr-defined]
            raise exc
        if verdict.delay and slow:
            await asyncio.sleep(verdict.delay)
        return counts

    async def failed(self, account: str, address: str) -> None:
        """Count a failed login (and forget those out of the window)."""
        async with self.engine.begin() as conn:
            await audit_queries.add_failure(conn, account, address)
            await audit_queries.prune_failures(conn, datetime.now(UTC) - self.window)

    async def succeeded(self, account: str, address: str) -> None:
        """Forget this address's failures on this account."""
        async with self.engine.begin() as conn:
            await audit_queries.clear_failures(conn, account, address)
