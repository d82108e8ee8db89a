"""The token-signing keys: kept sealed in the database, shared by every hub process.

The first key is made at the first start. `rotate_signing_key` adds a newer one: the newest
key signs, every stored key verifies, so tokens issued before a rotation stay valid until
`prune_signing_keys` drops the keys they were signed with. Keys are sealed with the hub's
key-encryption secret (`registry.auth.keyseal`); plain PEM keys written by earlier versions are
sealed in place when a hub starts.

Each hub process holds its keys in a `TokenKeys`: it reloads them every `REFRESH_SECONDS`
(a rotation or a prune reaches running processes within that time) and at once when a token
names a key it lacks (a token from a process that already signs with a newer key), at most
once per `RELOAD_SECONDS`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from registry.auth.keyseal import KeySealer, SigningKeyError, is_sealed
from registry.auth.tokens import PublicKeys, SigningKey, TokenIssuer, TokenVerifier
from registry.db import account_queries
from registry.db.account_queries import SigningKeyRecord

logger = logging.getLogger(__name__)

__all__ = [
    "REFRESH_SECONDS",
    "RELOAD_SECONDS",
    "SigningKeyError",
    "SigningKeyReseal",
    "TokenKeys",
    "load_signing_keys",
    "open_signing_keys",
    "prune_signing_keys",
    "reseal_signing_keys",
    "rotate_signing_key",
    "signing_key_records",
]

REFRESH_SECONDS = 60.0  # every process reloads its keys this often
RELOAD_SECONDS = 5.0  # at most one reload for unknown key ids in this time


async def _records(engine: AsyncEngine) -> list[SigningKeyRecord]:
    async with engine.connect() as conn:
        return await account_queries.signing_keys_oldest_first(conn)


async def _seal_plain_keys(engine: AsyncEngine, sealer: KeySealer) -> None:
    """Seal keys stored as plain PEM; a process racing us changes the row first, and we skip."""
    for record in await _records(engine):
        if is_sealed(record.stored):
            continue
        key = sealer.open(record.kid, record.stored)
        async with engine.begin() as conn:
            sealed = await account_queries.replace_stored_signing_key(
                conn, record.kid, record.stored, sealer.seal(key)
            )
        if sealed:
            logger.info("sealed token signing key %s (stored unencrypted before)", record.kid)


async def _create_first_key(engine: AsyncEngine, sealer: KeySealer) -> None:
    # Processes starting together take turns, so they all find the same single key.
    async with engine.begin() as conn:
        await account_queries.lock_signing_keys(conn)
        if await account_queries.signing_keys_oldest_first(conn):
            return
        key = SigningKey.generate()
        await account_queries.insert_signing_key(conn, key.kid, sealer.seal(key))
    logger.info("created token signing key %s", key.kid)


async def load_signing_keys(engine: AsyncEngine, secret: bytes) -> list[SigningKey]:
    """Every signing key, oldest first (the last one signs), creating the first on demand.

    Raises:
        SigningKeyError: `secret` does not open a stored key.
    """
    sealer = KeySealer(secret)
    await _seal_plain_keys(engine, sealer)
    records = await _records(engine)
    if not records:
        await _create_first_key(engine, sealer)
        records = await _records(engine)
    return [sealer.open(record.kid, record.stored) for record in records]


async def signing_key_records(engine: AsyncEngine) -> list[SigningKeyRecord]:
    """The stored keys, oldest first (ids and dates; the last one signs)."""
    return await _records(engine)


async def rotate_signing_key(engine: AsyncEngine, secret: bytes) -> SigningKey:
    """Add a new signing key, newer than every stored one; it signs from now on.

    Raises:
        SigningKeyError: `secret` does not open the stored keys (a key sealed with it would
            not open in the hubs either).
    """
    await load_signing_keys(engine, secret)
    newest = (await _records(engine))[-1].created_at
    # Newer than every stored key even if this machine's clock is behind.
    created_at = max(account_queries.now(), newest + timedelta(microseconds=1))
    key = SigningKey.generate()
    async with engine.begin() as conn:
        await account_queries.insert_signing_key(
            conn, key.kid, KeySealer(secret).seal(key), created_at
        )
    logger.info("added token signing key %s", key.kid)
    return key


async def prune_signing_keys(
    engine: AsyncEngine, older_than: timedelta, now: datetime
) -> list[str]:
    """Drop the keys replaced by a newer key more than `older_than` before `now`.

    The newest key is always kept. Tokens signed with a dropped key are refused.

    Returns:
        the ids of the dropped keys.
    """
    records = await _records(engine)
    cutoff = now - older_than
    dropped = [
        older.kid for older, newer in itertools.pairwise(records) if newer.created_at <= cutoff
    ]
    if dropped:
        async with engine.begin() as conn:
            await account_queries.delete_signing_keys(conn, dropped)
        logger.info("dropped token signing keys %s", ", ".join(dropped))
    return dropped


@dataclass(frozen=True, slots=True)
class SigningKeyReseal:
    """What re-sealing the signing keys did (`plain`: stored unencrypted before, now sealed)."""

    stored: int
    resealed: int
    already: int
    plain: int


async def reseal_signing_keys(
    conn: AsyncConnection, old: KeySealer, new: KeySealer
) -> SigningKeyReseal:
    """Seal every signing key with `new`, in the caller's transaction (begun with the lock).

    A key that `new` opens already is left alone; every other sealed key must open with `old`.

    Raises:
        SigningKeyError: a key opens with neither; nothing should be committed then.
    """
    records = await account_queries.signing_keys_oldest_first(conn)
    resealed = already = plain = 0
    for record in records:
        if not is_sealed(record.stored):
            key = new.open(record.kid, record.stored)
            plain += 1
        else:
            try:
                new.open(record.kid, record.stored)
                already += 1
                continue
            except SigningKeyError:
                key = _open_with_old(old, record)
                resealed += 1
        await account_queries.replace_stored_signing_key(
            conn, record.kid, record.stored, new.seal(key)
        )
    return SigningKeyReseal(len(records), resealed, already, plain)


def _open_with_old(old: KeySealer, record: SigningKeyRecord) -> SigningKey:
    try:
        return old.open(record.kid, record.stored)
    except SigningKeyError as exc:
        raise SigningKeyError(
            f"the token signing key {record.kid} opens with neither the old nor the new "
            "key-encryption secret"
        ) from exc


async def open_signing_keys(conn: AsyncConnection, sealer: KeySealer) -> int:
    """Open every stored signing key with `sealer`, as a hub does at start.

    Returns:
        how many keys are stored.

    Raises:
        SigningKeyError: one does not open.
    """
    records = await account_queries.signing_keys_oldest_first(conn)
    for record in records:
        sealer.open(record.kid, record.stored)
    return len(records)


class TokenKeys:
    """One hub process's token issuer and verifier, kept current with the stored keys.

    Args:
        engine: the hub's database.
        secret: the key-encryption secret.
        keys: the keys loaded at start, oldest first.
        service: the token audience.
    """

    def __init__(
        self, engine: AsyncEngine, secret: bytes, keys: list[SigningKey], service: str
    ) -> None:
        self._engine = engine
        self._secret = secret
        self.issuer = TokenIssuer(keys[-1], service)
        self.verifier = TokenVerifier(_public_keys(keys), service, reload=self._reload_for_unknown)
        self._lock = asyncio.Lock()
        self._reloaded_at = float("-inf")  # the first unknown key id reloads at once

    @classmethod
    async def load(cls, engine: AsyncEngine, secret: bytes, service: str) -> TokenKeys:
        """Load (and seal, and on first start create) the keys.

        Raises:
            SigningKeyError: `secret` does not open a stored key.
        """
        return cls(engine, secret, await load_signing_keys(engine, secret), service)

    async def reload(self) -> None:
        """Sign with the newest stored key and verify with exactly the stored keys."""
        async with self._lock:
            keys = await load_signing_keys(self._engine, self._secret)
            self._reloaded_at = time.monotonic()
            if keys[-1].kid != self.issuer.key.kid:
                logger.info("token signing key is now %s", keys[-1].kid)
            self.issuer.key = keys[-1]
            self.verifier.replace_keys(_public_keys(keys))

    async def _reload_for_unknown(self) -> PublicKeys:
        if time.monotonic() - self._reloaded_at >= RELOAD_SECONDS:
            try:
                await self.reload()
            except (SigningKeyError, SQLAlchemyError):
                logger.exception("reloading the token signing keys failed")
        return self.verifier.keys

    async def refresh_forever(self) -> None:
        """Reload every `REFRESH_SECONDS` until cancelled (a failed reload is logged)."""
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.reload()
            except Exception:
                logger.exception("reloading the token signing keys failed")


def _public_keys(keys: list[SigningKey]) -> PublicKeys:
    return {key.kid: key.public_key for key in keys}
