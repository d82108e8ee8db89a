"""Repository-side signing against an in-memory trust server, verified by a fresh client."""

import pytest

from tests.unit.trust.values import DIGEST_A, DIGEST_B, GUN, NOW, passphrases
from trust.client.updater import list_targets, resolve
from trust.keystore import KeyStore
from trust.signer import RELEASES_ROLE, Repository, RepositoryExistsError
from trust.tuf.errors import KeyNotFoundError, RepositoryNotInitializedError, TargetNotFoundError
from trust.tuf.keys import PrivateKey


def test_initialize_publishes_root_and_targets_with_server_keys(repo, server, client):
    assert sorted(server.files) == ["root", "snapshot", "targets", "timestamp"]
    trusted = client().refresh()
    root = trusted.root.signed
    assert root.version == 1 and trusted.targets["targets"].signed.targets == {}
    root_key = next(iter(root.role_keys("root")[0].values()))
    assert root_key.keytype == "ecdsa-x509"
    assert repo.keystore.find("root") == [root_key.canonical_id()]
    assert root.role_keys("timestamp")[0].popitem()[1] == server.get_key("timestamp")
    with pytest.raises(RepositoryExistsError):
        repo.initialize()


def test_client_snapshot_key_is_used_when_local(server, tmp_path, client):
    repository = Repository(GUN, server, KeyStore(tmp_path / "k"), passphrases, clock=lambda: NOW)
    repository.initialize(server_managed_snapshot=False)
    assert repository.keystore.find("snapshot", GUN)
    repository.sign_target("v1", DIGEST_A, 10)
    trusted = client().refresh()
    snapshot_key = next(iter(trusted.root.signed.role_keys("snapshot")[0]))
    assert trusted.snapshot.signatures[0].keyid == snapshot_key
    assert resolve(trusted, "v1").sha256 == DIGEST_A


def test_sign_resolve_and_revoke(repo, client):
    assert repo.sign_target("v1", DIGEST_A, 10) == ["targets"]
    repo.sign_target("v2", DIGEST_B, 20)
    signed = resolve(client().refresh(), "v1")
    assert (signed.digest, signed.length, signed.role) == (f"sha256:{DIGEST_A}", 10, "targets")
    assert repo.remove_target("v1") == ["targets"]
    trusted = client().refresh()
    with pytest.raises(TargetNotFoundError):
        resolve(trusted, "v1")
    assert resolve(trusted, "v2").sha256 == DIGEST_B


def test_signer_delegation_and_priority(repo, server, tmp_path, client):
    alice_store = KeyStore(tmp_path / "alice")
    alice_key = PrivateKey.generate_ecdsa()
    alice_store.add(alice_key, "alice", "", "repo-pass")
    repo.sign_target("v1", DIGEST_A, 10)
    repo.add_signer("alice", [alice_key.public_key()])

    alice = Repository(GUN, server, alice_store, passphrases, clock=lambda: NOW)
    assert alice.sign_target("v1", DIGEST_B, 11) == [RELEASES_ROLE, "targets/alice"]
    trusted = client().refresh()
    # Docker's priority: targets/releases before targets.
    assert resolve(trusted, "v1").role == RELEASES_ROLE
    assert resolve(trusted, "v1").sha256 == DIGEST_B
    roles = [t.role for t in list_targets(trusted)["v1"]]
    assert roles == ["targets", RELEASES_ROLE, "targets/alice"]
    with pytest.raises(KeyNotFoundError, match="no valid signing keys"):
        repo.sign_target("owner", DIGEST_A, 1)  # delegations exist, owner holds none

    alice.sign_target("only-alice", DIGEST_A, 1, role="targets/alice")
    trusted = client().refresh()
    with pytest.raises(TargetNotFoundError):  # Docker ignores other delegations
        resolve(trusted, "only-alice")
    assert resolve(trusted, "only-alice", ["targets"], subtrees=True).role == "targets/alice"

    with pytest.raises(KeyNotFoundError):  # the owner holds no key for releases
        repo.remove_target("v1", roles=[RELEASES_ROLE])
    repo.remove_signer("alice")
    trusted = client().refresh()
    assert "targets/alice" not in trusted.targets
    delegations = trusted.targets["targets"].signed.delegations
    assert delegations.role(RELEASES_ROLE).keyids == [] and delegations.keys == {}


def test_root_rotation_keeps_old_clients_verifying(repo, server, client):
    repo.sign_target("v1", DIGEST_A, 10)
    old = client(name="old")
    old.refresh()
    first = repo.keystore.find("root")
    repo.rotate_root_key()
    repo.rotate_remote_key("timestamp")
    repo.rotate_root_key()
    assert len(repo.keystore.find("root")) == 3 and first[0] in repo.keystore.find("root")
    trusted = old.refresh()
    assert trusted.root.signed.version == 4
    assert resolve(trusted, "v1").sha256 == DIGEST_A
    # the client walked 2.root.json and 3.root.json: root 4 is not signed by root 1's key
    assert {"root:2", "root:3"} <= set(server.requests)


def test_snapshot_key_rotation_to_server(server, tmp_path, client):
    repository = Repository(GUN, server, KeyStore(tmp_path / "k"), passphrases, clock=lambda: NOW)
    repository.initialize(server_managed_snapshot=False)
    repository.rotate_remote_key("snapshot")
    repository.sign_target("v1", DIGEST_A, 10)
    trusted = client().refresh()
    assert trusted.snapshot.signatures[0].keyid == server.get_key("snapshot").key_id


def test_delete_remote(repo, client):
    repo.delete_remote()
    with pytest.raises(RepositoryNotInitializedError):
        client().refresh()
