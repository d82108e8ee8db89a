"""Whether the account (and access token) behind a user's bearer token still stands.

Bearer tokens are verified without the database, but a user's token names its account
(`uid`, `ust`) and maybe the personal access token it was minted with (`pat`); this cache asks
the database whether they still stand at most once per `ttl` seconds per binding. A token
revoked, or an account removed, through this process is refused at once; one revoked or removed
elsewhere (the CLI, another hub process) within `ttl` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from registry.auth.policy import Principal
from registry.auth.tokens import TokenClaims

__all__ = ["RevocationCache"]

_Key = tuple[int, int, str, int | None]  # user id, account stamp, name, access-token id
_MAX_ENTRIES = 10000


class RevocationCache:
    """Remembers, for a short time, the principal each token binding stands for.

    Args:
        lookup: the principal a token's binding stands for, or None when gone (the
            authenticator's `bound_principal`).
        ttl: seconds an answer is reused.
    """

    def __init__(
        self, lookup: Callable[[TokenClaims], Awaitable[Principal | None]], ttl: float = 1.0
    ) -> None:
        self.lookup = lookup
        self.ttl = ttl
        self._seen: dict[_Key, tuple[Principal | None, float]] = {}
        self._revoked: set[int] = set()

    async def holder(self, claims: TokenClaims) -> Principal | None:
        """The principal behind a user's token; None when its account or access token is gone."""
        if claims.user is None:
            return None
        if claims.token_id is not None and claims.token_id in self._revoked:
            return None
        key = (claims.user.user_id, claims.user.stamp, claims.subject, claims.token_id)
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[1] < self.ttl:
            return seen[0]
        principal = await self.lookup(claims)
        if len(self._seen) > _MAX_ENTRIES:
            self._seen.clear()
        self._seen[key] = (principal, now)
        return principal

    def revoked(self, token_id: int) -> None:
        """Note a revocation made by this process (refused from now on)."""
        self._revoked.add(token_id)

    def account_removed(self) -> None:
        """Note an account removal made by this process: ask the database again."""
        self._seen.clear()
