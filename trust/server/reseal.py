"""Re-sealing the server-held keys under a new key-encryption secret, and checking the secret.

The hub's `berth-hub keys reseal` calls `reseal_server_keys` inside the one transaction in
which it re-seals all of its sealed keys, so a failure leaves every key as it was.
`open_newest_server_key` is what `berth-hub config check` asks.

Scope: the `trust_keys` table of the SQL store, on a connection the caller owns.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from trust.server.keyseal import KeySealError, ServerKeySealer
from trust.server.store.sql import trust_keys

__all__ = ["ResealCount", "lock_server_keys", "open_newest_server_key", "reseal_server_keys"]

logger = logging.getLogger(__name__)

_COLUMNS = (
    trust_keys.c.id,
    trust_keys.c.gun,
    trust_keys.c.role,
    trust_keys.c.key_id,
    trust_keys.c.encrypted_private,
)


@dataclass(frozen=True, slots=True)
class ResealCount:
    """What a re-sealing did: stored keys, keys re-sealed, keys already under the new secret."""

    stored: int
    resealed: int
    already: int


async def lock_server_keys(conn: AsyncConnection) -> None:
    """Hold off writers of `trust_keys` until the transaction ends (PostgreSQL).

    On SQLite the caller's `BEGIN IMMEDIATE` already holds off every writer.
    """
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("LOCK TABLE trust_keys IN SHARE ROW EXCLUSIVE MODE")


async def reseal_server_keys(
    conn: AsyncConnection, old: ServerKeySealer, new: ServerKeySealer
) -> ResealCount:
    """Seal every stored server key with `new`, in the caller's transaction.

    A key that `new` opens already is left alone. Every other key must open with `old`.

    Raises:
        KeySealError: a key opens with neither; nothing should be committed then.
    """
    rows = (await conn.execute(sa.select(*_COLUMNS).order_by(trust_keys.c.id))).all()
    changes = []
    for row in rows:
        sealed = bytes(row.encrypted_private)
        try:
            new.open(row.gun, row.role, row.key_id, sealed)
            continue
        except KeySealError:
            pass
        try:
            key = old.open(row.gun, row.role, row.key_id, sealed)
        except KeySealError as exc:
            raise KeySealError(
                f"the server {row.role} key {row.key_id} of {row.gun} opens with neither the "
                "old nor the new key-encryption secret"
            ) from exc
        changes.append({"row_id": row.id, "sealed": new.seal(row.gun, row.role, row.key_id, key)})
    if changes:
        await conn.execute(
            sa.update(trust_keys)
            .where(trust_keys.c.id == sa.bindparam("row_id"))
            .values(encrypted_private=sa.bindparam("sealed")),
            changes,
        )
    logger.info("re-sealed %d of %d server-held trust keys", len(changes), len(rows))
    return ResealCount(len(rows), len(changes), len(rows) - len(changes))


async def open_newest_server_key(conn: AsyncConnection, sealer: ServerKeySealer) -> bool:
    """Open the newest stored server key with `sealer`.

    Returns:
        whether a key is stored at all.

    Raises:
        KeySealError: it does not open.
    """
    query = sa.select(*_COLUMNS).order_by(trust_keys.c.id.desc()).limit(1)
    row = (await conn.execute(query)).first()
    if row is None:
        return False
    sealer.open(row.gun, row.role, row.key_id, bytes(row.encrypted_private))
    return True
