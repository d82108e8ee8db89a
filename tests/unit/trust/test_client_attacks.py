"""A hostile or broken trust server is refused, and the client's cache stays as it was.

The server is `FakeTrustServer` (the real `RemoteStore` Protocol); it holds the timestamp and
snapshot keys, so it can re-sign those two, as a compromised notary-server could.
"""

import datetime as dt

import pytest

from tests.unit.trust.values import DIGEST_A, DIGEST_B, GUN, NOW, passphrases
from trust.client.trusted_set import TrustedSet
from trust.client.updater import list_targets, resolve
from trust.tuf.errors import (
    BadHashError,
    BadLengthError,
    CertificateError,
    ExpiredMetadataError,
    RollbackError,
    SignatureError,
    TargetNotFoundError,
    ThresholdError,
    TrustError,
)
from trust.tuf.keys import PrivateKey, make_root_certificate
from trust.tuf.model import FileMeta, Metadata, Root, RootRole, Targets, format_time


def _cache_bytes(updater):
    return {role: updater.cache.load(role) for role in updater.cache.roles()}


def _refused(updater, error):
    before = _cache_bytes(updater)
    with pytest.raises(error):
        updater.refresh()
    assert _cache_bytes(updater) == before


def _root_key(repo):
    return repo.keystore.get(repo.keystore.find("root")[0], passphrases("root"))


def _targets_key(repo):
    return repo.keystore.get(repo.keystore.find("targets", GUN)[0], passphrases("targets"))


def _serve_consistently(server, role, data):
    server.serve(role, data)
    server.make_snapshot()
    server.make_timestamp()


def test_tampered_targets_with_resigned_snapshot_is_refused(repo, server, client):
    repo.sign_target("v1", DIGEST_A, 10)
    updater = client()
    updater.refresh()
    targets = Metadata.from_bytes(server.files["targets"], Targets)
    targets.signed.targets["v1"] = FileMeta.for_digest(DIGEST_B, 10)
    targets.signed.version += 1
    _serve_consistently(server, "targets", targets.to_bytes())  # old signature, new content
    _refused(updater, ThresholdError)


def test_targets_signed_by_a_key_not_in_root_is_refused(repo, server, client):
    targets = Metadata.from_bytes(server.files["targets"], Targets)
    targets.signed.version += 1
    targets.signatures = []
    targets.sign(PrivateKey.generate_ecdsa())
    _serve_consistently(server, "targets", targets.to_bytes())
    _refused(client(), ThresholdError)


def test_signatures_below_threshold_are_refused(repo, server, client):
    second = PrivateKey.generate_ecdsa()
    root = Metadata.from_bytes(server.files["root"], Root)
    root.signed.version += 1
    root.signed.keys[second.key_id] = second.public_key()
    root.signed.roles["targets"].keyids.append(second.key_id)
    root.signed.roles["targets"].threshold = 2
    root.signatures = []
    root.sign(_root_key(repo), next(iter(root.signed.role_keys("root")[0].values())))
    _serve_consistently(server, "root", root.to_bytes())
    _refused(client(), ThresholdError)  # targets carries one of the two signatures needed
    targets = Metadata.from_bytes(server.files["targets"], Targets)
    targets.signed.version += 1
    targets.signatures = []
    targets.sign(_targets_key(repo))
    targets.sign(second)
    _serve_consistently(server, "targets", targets.to_bytes())
    assert client(name="c2").refresh().targets["targets"].signed.version == 2


def test_version_rollback_of_targets_is_refused(repo, server, client):
    old_targets = server.files["targets"]
    repo.sign_target("v1", DIGEST_A, 10)
    updater = client()
    updater.refresh()
    _serve_consistently(server, "targets", old_targets)  # validly signed, older version
    _refused(updater, RollbackError)


def test_replayed_timestamp_and_snapshot_are_refused(repo, server, client):
    old = dict(server.files)
    repo.sign_target("v1", DIGEST_A, 10)
    updater = client()
    updater.refresh()
    server.serve("timestamp", old["timestamp"])  # a complete, consistent older state
    server.serve("snapshot", old["snapshot"])
    server.serve("targets", old["targets"])
    _refused(updater, RollbackError)
    # A replayed snapshot under a fresh timestamp is caught too.
    server.make_timestamp(version=100)
    _refused(updater, RollbackError)


def test_root_version_rollback_is_refused(repo, server, client):
    first_root = server.files["root"]
    repo.rotate_remote_key("timestamp")
    updater = client()
    updater.refresh()
    server.serve("root", first_root)
    _refused(updater, RollbackError)


def test_expired_metadata_is_refused(repo, server, client):
    updater = client()
    updater.refresh()
    # A server that stops refreshing the timestamp (freeze attack) is noticed after expiry.
    frozen = client(at=NOW + dt.timedelta(days=15))
    frozen.cache = updater.cache
    _refused(frozen, ExpiredMetadataError)
    server.timestamp_expiry = dt.timedelta(seconds=-1)
    server.make_timestamp()
    _refused(updater, ExpiredMetadataError)


def test_expired_targets_are_refused(repo, server, client):
    targets = Metadata.from_bytes(server.files["targets"], Targets)
    targets.signed.version += 1
    targets.signed.expires = format_time(NOW - dt.timedelta(seconds=1))
    targets.signatures = []
    targets.sign(_targets_key(repo))
    _serve_consistently(server, "targets", targets.to_bytes())
    _refused(client(), ExpiredMetadataError)


def test_snapshot_not_matching_timestamp_is_refused(repo, server, client):
    updater = client()
    updater.refresh()
    old_timestamp = server.files["timestamp"]
    listed = Metadata.from_bytes(old_timestamp).signed.meta["snapshot"]
    repo.sign_target("v1", DIGEST_A, 10)
    # A validly signed newer snapshot, served where the (current) timestamp's hash points.
    server.serve("timestamp", old_timestamp)
    server.by_hash[listed.digest().hex()] = server.files["snapshot"]
    _refused(updater, (BadHashError, BadLengthError))


def test_targets_swapped_under_the_snapshot_hash_is_refused(repo, server, client):
    old_targets = server.files["targets"]
    repo.sign_target("v1", DIGEST_A, 10)
    snapshot = Metadata.from_bytes(server.files["snapshot"])
    current = snapshot.signed.meta["targets"].digest().hex()
    server.by_hash[current] = old_targets  # valid signature, wrong bytes for this snapshot
    _refused(client(), (BadHashError, BadLengthError))


def test_root_rotation_not_signed_by_old_root_is_refused(repo, server, client):
    updater = client()
    updater.refresh()
    attacker = PrivateKey.generate_ecdsa()
    certificate = make_root_certificate(attacker, GUN, NOW)
    for version in (2, 3):
        root = Metadata.from_bytes(server.files["root"], Root)
        root.signed.version = version
        root.signed.keys[certificate.key_id] = certificate
        root.signed.roles["root"] = RootRole([certificate.key_id], 1)
        root.signatures = []
        root.sign(attacker, certificate)  # self-signed by the new key only
        server.serve("root", root.to_bytes())
    _refused(updater, SignatureError)


def test_root_certificate_for_another_gun_is_refused(server, tmp_path, client):
    from trust.keystore import KeyStore
    from trust.signer import Repository

    other = Repository(
        "hub.example:5000/team/other",
        server,
        KeyStore(tmp_path / "o"),
        passphrases,
        clock=lambda: NOW,
    )
    other.initialize()  # the server now serves a root whose certificate names another GUN
    _refused(client(), CertificateError)


def test_delegation_cannot_sign_outside_its_paths(repo, server, client, tmp_path):
    from trust.keystore import KeyStore
    from trust.signer import Repository

    mallory_store = KeyStore(tmp_path / "mallory")
    mallory = PrivateKey.generate_ecdsa()
    mallory_store.add(mallory, "targets/mallory", "", "repo-pass")
    repo.sign_target("v1", DIGEST_A, 10)
    repo.add_delegation("targets/mallory", [mallory.public_key()], paths=["mallory-"])
    Repository(GUN, server, mallory_store, passphrases, clock=lambda: NOW).sign_target(
        "v1", DIGEST_B, 10, role="targets/mallory"
    )
    Repository(GUN, server, mallory_store, passphrases, clock=lambda: NOW).sign_target(
        "mallory-1", DIGEST_B, 10, role="targets/mallory"
    )
    trusted = client().refresh()
    assert "v1" in trusted.targets["targets/mallory"].signed.targets
    assert resolve(trusted, "v1", ["targets/mallory", "targets"]).sha256 == DIGEST_A
    with pytest.raises(TargetNotFoundError):
        resolve(trusted, "v1", ["targets/mallory"])
    assert resolve(trusted, "mallory-1", ["targets/mallory"]).sha256 == DIGEST_B
    assert [t.role for t in list_targets(trusted)["v1"]] == ["targets"]


def test_trusted_set_enforces_order(repo, server):
    trusted = TrustedSet(GUN, server.files["root"], NOW)
    with pytest.raises(RuntimeError):
        trusted.update_snapshot(server.files["snapshot"])
    with pytest.raises(RuntimeError):
        trusted.update_targets(server.files["targets"])
    with pytest.raises(RuntimeError):
        trusted.update_delegated_targets("targets/releases", b"{}")
    trusted.update_timestamp(server.files["timestamp"])
    with pytest.raises(RuntimeError):
        trusted.update_root(server.files["root"])
    with pytest.raises(RuntimeError):
        trusted.update_timestamp(server.files["timestamp"])
    trusted.update_snapshot(server.files["snapshot"])
    trusted.update_targets(server.files["targets"])
    with pytest.raises(RuntimeError):
        trusted.update_targets(server.files["targets"])


def test_garbage_from_the_server_is_a_trust_error(repo, server, client):
    server.serve("timestamp", b"<html>proxy error</html>")
    _refused(client(), TrustError)
