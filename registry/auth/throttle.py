"""Login throttling: too many failed logins for an account, or from an address, lock it out.

Failures live in the database so every hub process (and every replica) counts the same ones.
An account or address that failed `limit` times within the window is refused, even with the
right password, until its failures age out of the window; a good login clears the account's.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.db import audit_queries
from registry.errors import TooManyRequestsError

logger = logging.getLogger(__name__)

__all__ = ["LoginThrottle"]


class LoginThrottle:
    """Counts failed logins per account and per address over a sliding window.

    Args:
        engine: the hub database.
        window_seconds: how long a failure counts.
        per_account: failures that lock an account.
        per_address: failures that lock a client address.
    """

    def __init__(
        self, engine: AsyncEngine, *, window_seconds: int, per_account: int, per_address: int
    ) -> None:
        self.engine = engine
        self.window = timedelta(seconds=window_seconds)
        self.per_account = per_account
        self.per_address = per_address

    async def check(self, account: str, address: str) -> None:
        """Return when a login attempt may proceed.

        Raises:
            TooManyRequestsError: the account or address is locked out for now.
        """
        since = datetime.now(UTC) - self.window
        async with self.engine.connect() as conn:
            by_account, by_address = await audit_queries.count_failures(
                conn, account, address, since
            )
        if by_account >= self.per_account or by_address >= self.per_address:
            logger.warning("login throttled for account %r from %s", account, address)
            seconds = int(self.window.total_seconds())
            exc = TooManyRequestsError(
                "too many failed logins; try again later", retry_after=seconds
            )
            exc.headers = {"Retry-After": str(seconds)}  # type: ignore[attr-defined]
            raise exc

    async def failed(self, account: str, address: str) -> None:
        async with self.engine.begin() as conn:
            await audit_queries.add_failure(conn, account, address)

    async def succeeded(self, account: str) -> None:
        async with self.engine.begin() as conn:
            await audit_queries.clear_failures(conn, account, datetime.now(UTC) - self.window)
