"""The revocation cache under concurrent requests: one lookup per binding, removals at once."""

from __future__ import annotations

import asyncio

from registry.auth.policy import Principal
from registry.auth.revocations import RevocationCache
from registry.auth.tokens import TokenClaims, UserBinding

ALICE = Principal(7, "alice", False, stamp=1)


def claims(token_id: int | None = None) -> TokenClaims:
    return TokenClaims("alice", (), 2**40, "access", token_id, {}, UserBinding(7, 1))


class SlowDatabase:
    """A lookup that waits until released, counting the questions asked."""

    def __init__(self) -> None:
        self.asked = 0
        self.release = asyncio.Event()
        self.answer: Principal | None = ALICE

    async def lookup(self, _claims: TokenClaims) -> Principal | None:
        self.asked += 1
        answer = self.answer
        await self.release.wait()
        return answer

    async def no_robots(self, _claims: TokenClaims) -> None:
        raise AssertionError("no robot token here")


async def test_concurrent_requests_share_one_lookup() -> None:
    database = SlowDatabase()
    cache = RevocationCache(database.lookup, database.no_robots)
    waiting = [asyncio.create_task(cache.holder(claims())) for _ in range(20)]
    await asyncio.sleep(0)
    database.release.set()
    assert await asyncio.gather(*waiting) == [ALICE] * 20
    assert database.asked == 1


async def test_a_cancelled_request_leaves_the_others_their_answer() -> None:
    database = SlowDatabase()
    cache = RevocationCache(database.lookup, database.no_robots)
    first, second = (asyncio.create_task(cache.holder(claims())) for _ in range(2))
    await asyncio.sleep(0)
    first.cancel()
    database.release.set()
    assert await second == ALICE


async def test_a_removal_during_a_lookup_is_not_answered_by_it() -> None:
    database = SlowDatabase()
    cache = RevocationCache(database.lookup, database.no_robots)
    before = asyncio.create_task(cache.holder(claims()))
    await asyncio.sleep(0)
    database.answer = None  # the account is removed while the first lookup runs
    cache.account_removed()
    after = asyncio.create_task(cache.holder(claims()))
    await asyncio.sleep(0)
    database.release.set()
    await before
    assert await after is None
    assert await cache.holder(claims()) is None  # the stale answer was not kept either
    assert database.asked == 2


async def test_a_token_revoked_during_a_lookup_is_refused() -> None:
    database = SlowDatabase()
    cache = RevocationCache(database.lookup, database.no_robots)
    waiting = asyncio.create_task(cache.holder(claims(token_id=3)))
    await asyncio.sleep(0)
    cache.revoked(3)
    database.release.set()
    assert await waiting is None
