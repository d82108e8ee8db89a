"""Server-held keys across two replicas sharing one store: rotation, signing, sealing."""

from trust.server.keyring import ServerKeyring
from trust.server.store.memory import MemoryMetaStore
from trust.tuf.keys import PublicKey
from trust.tuf.model import Root
from trust.tuf.parts import RootRole

GUN = "127.0.0.1:5000/team/app"
SECRET = b"keyring-test-secret-0123"


def _root(timestamp: list[PublicKey]) -> Root:
    keys = {key.key_id: key for key in timestamp}
    return Root(1, "2030-01-01T00:00:00Z", keys, {"timestamp": RootRole(list(keys), 1)})


def _ids(keys) -> list[str]:
    return [key.key_id for key in keys]


async def test_a_key_rotated_by_another_replica_signs_once_the_root_lists_it():
    store = MemoryMetaStore()
    first, second = ServerKeyring(store, SECRET), ServerKeyring(store, SECRET)
    old = await first.get_or_create(GUN, "timestamp")
    assert _ids(await first.signing_keys(GUN, "timestamp", _root([old]))) == [old.key_id]

    new = await second.rotate(GUN, "timestamp")
    assert _ids(await first.signing_keys(GUN, "timestamp", _root([new]))) == [new.key_id]
    assert _ids(await first.signing_keys(GUN, "timestamp", _root([old, new]))) == [
        old.key_id,
        new.key_id,
    ]


async def test_keys_unsealed_for_one_gun_do_not_sign_for_another():
    store = MemoryMetaStore()
    keyring = ServerKeyring(store, SECRET)
    key = await keyring.get_or_create(GUN, "timestamp")
    assert _ids(await keyring.signing_keys(GUN, "timestamp", _root([key]))) == [key.key_id]
    assert await keyring.signing_keys("127.0.0.1:5000/other", "timestamp", _root([key])) == []
    assert await keyring.signing_keys(GUN, "snapshot", _root([key])) == []
