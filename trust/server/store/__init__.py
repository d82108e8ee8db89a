"""Trust-server storage: the `MetaStore` contract and its memory and SQL implementations."""

from trust.server.store.base import Change, MetaStore, MetaUpdate, StoredKey, StoredMeta

__all__ = ["Change", "MetaStore", "MetaUpdate", "StoredKey", "StoredMeta"]
