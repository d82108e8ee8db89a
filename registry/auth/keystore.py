"""The token-signing key: made at first start, kept in the database, shared by every process.

The private key is stored as PEM in `signing_keys` (it is not a user secret; whoever reads the
database can mint tokens for this hub, as whoever reads Distribution's key file can). The
oldest key signs; every stored key verifies.
"""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.tokens import SigningKey, new_private_key_pem
from registry.db import account_queries

logger = logging.getLogger(__name__)

__all__ = ["load_signing_keys"]


async def _load_or_create(engine: AsyncEngine) -> list[str]:
    async with engine.begin() as conn:
        pems = await account_queries.signing_keys_pem(conn)
        if pems:
            return pems
        pem = new_private_key_pem()
        key = SigningKey.from_pem(pem)
        await account_queries.insert_signing_key(conn, key.kid, pem)
        logger.info("created token signing key %s", key.kid)
    async with engine.connect() as conn:
        return await account_queries.signing_keys_pem(conn)


async def load_signing_keys(
    engine: AsyncEngine,
) -> tuple[SigningKey, dict[str, ec.EllipticCurvePublicKey]]:
    """The signing key and every verification key by id, creating the first on demand."""
    try:
        pems = await _load_or_create(engine)
    except OperationalError:
        # Another process made the first key at the same moment; use what it stored.
        async with engine.connect() as conn:
            pems = await account_queries.signing_keys_pem(conn)
    keys = [SigningKey.from_pem(pem) for pem in pems]
    return keys[0], {key.kid: key.public_key for key in keys}
