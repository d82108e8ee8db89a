"""Server-held timestamp and snapshot keys, per GUN, sealed at rest.

Keys are ECDSA P-256 (what notary-server's default signer uses, so Docker sees `ecdsa`).
Private keys are stored sealed with the configured key-encryption secret (`keyseal`: AES-256-GCM,
the GUN, role and key ID bound in, so a sealed key cannot be replayed under another GUN or role).

`get_or_create` answers `GET <role>.key` (the newest key), `rotate` answers `POST <role>.key`
(a new key, used for signing once a root lists it), and `signing_keys` gives the private keys
of a role that a given root lists.

Unsealed keys are kept in this process, keyed by (GUN, role, key ID): a stored key pair never
changes and is never removed (`MetaStore.delete` keeps keys), so a cached key is never stale,
and `signing_keys` reads the store only when the root lists a key this process has not
unsealed yet (a key rotated in by another replica, or one the server does not hold).

Scope: key lifecycle over the `MetaStore`; no HTTP.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import OrderedDict

from trust.server.keyseal import ServerKeySealer
from trust.server.store.base import MetaStore, StoredKey
from trust.tuf.keys import PrivateKey, PublicKey
from trust.tuf.model import Root

__all__ = ["SERVER_ROLES", "ServerKeyring"]

logger = logging.getLogger(__name__)

SERVER_ROLES = ("timestamp", "snapshot")

_MAX_UNSEALED = 4096  # unsealed keys kept per process (least recently used dropped)


class ServerKeyring:
    """Creates, rotates, seals and unseals server-held keys."""

    def __init__(self, store: MetaStore, key_encryption_secret: bytes) -> None:
        """Keep keys in `store`, sealed with a key derived from `key_encryption_secret`."""
        self.store = store
        self._sealer = ServerKeySealer(key_encryption_secret)
        self._unsealed: OrderedDict[tuple[str, str, str], PrivateKey] = OrderedDict()

    async def get_or_create(self, gun: str, role: str) -> PublicKey:
        """The newest key of (gun, role), creating the first one on demand."""
        keys = await self.store.get_keys(gun, role)
        if keys:
            return PublicKey(keys[-1].keytype, keys[-1].public)
        return await self.rotate(gun, role)

    async def rotate(self, gun: str, role: str) -> PublicKey:
        """Create and store a new key for (gun, role) and return its public half."""
        if role not in SERVER_ROLES:
            raise ValueError(f"the server holds no {role} keys")
        private = PrivateKey.generate_ecdsa()
        public = private.public_key()
        sealed = self._sealer.seal(gun, role, public.key_id, private)
        await self.store.add_key(
            StoredKey(gun, role, public.key_id, public.keytype, public.public, sealed, _utcnow())
        )
        logger.info("created %s key %s for %s", role, public.key_id, gun)
        return public

    async def signing_keys(self, gun: str, role: str, root: Root) -> list[PrivateKey]:
        """The private keys of `role` that `root` lists and the server holds."""
        listed = root.roles[role].keyids if role in root.roles else []
        cached = [self._cached(gun, role, key_id) for key_id in listed]
        if listed and None not in cached:
            return [key for key in cached if key is not None]
        found = []
        for stored in await self.store.get_keys(gun, role):
            if stored.key_id in listed:
                found.append(self._unseal(stored))
        return found

    def _cached(self, gun: str, role: str, key_id: str) -> PrivateKey | None:
        key = self._unsealed.get((gun, role, key_id))
        if key is not None:
            self._unsealed.move_to_end((gun, role, key_id))
        return key

    def _unseal(self, stored: StoredKey) -> PrivateKey:
        lookup = (stored.gun, stored.role, stored.key_id)
        key = self._cached(*lookup)
        if key is None:
            key = self._sealer.open(*lookup, stored.encrypted_private)
            self._unsealed[lookup] = key
            while len(self._unsealed) > _MAX_UNSEALED:
                self._unsealed.popitem(last=False)
        return key


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
