"""Forged updates are refused with notary's error codes, and nothing stored changes."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.trust.conftest import GUN, passphrases, run
from trust.tuf.keys import PrivateKey, make_root_certificate
from trust.tuf.model import (
    DelegatedRole,
    FileMeta,
    Metadata,
    Root,
    RootRole,
    Snapshot,
    Targets,
    format_time,
)

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
async def author(trust_server, tmp_path):
    repository = trust_server.repository(tmp_path / "author")
    await run(repository.initialize)
    await run(repository.sign_target, "v1", "ab" * 32, 5)
    return repository


def _key(repository, role):
    found = repository.keystore.find(role, GUN)
    return repository.keystore.get(found[0], passphrases(role))


def _next(trust_state, role, kind):
    metadata = Metadata.from_bytes(trust_state[role], kind)
    metadata.signed.version += 1
    metadata.signatures = []
    return metadata


async def _refused(trust_server, files, code, name=None, gun=GUN):
    before = await trust_server.state(gun)
    response = await trust_server.publish(files, gun=gun)
    error = (await response.json())["errors"][0]
    assert (response.status, error["code"]) == (400, code), error
    if name is not None:
        assert error["detail"]["Name"] == name, error
    assert await trust_server.state(gun) == before
    return error


async def test_bad_signature(trust_server, author):
    targets = _next(await trust_server.state(), "targets", Targets)
    targets.sign(_key(author, "targets"))
    targets.signed.targets["v1"] = FileMeta.for_digest("cd" * 32, 5)  # changed after signing
    await _refused(trust_server, {"targets": targets.to_bytes()}, "INVALID_UPDATE", "ErrBadTargets")


async def test_too_few_signatures_for_the_threshold(trust_server, author):
    state = await trust_server.state()
    second = PrivateKey.generate_ecdsa()
    root = _next(state, "root", Root)
    root.signed.keys[second.key_id] = second.public_key()
    root.signed.roles["targets"] = RootRole(
        [*root.signed.roles["targets"].keyids, second.key_id], 2
    )
    root_key = _key(author, "root")
    root.sign(root_key, next(iter(root.signed.role_keys("root")[0].values())))
    assert (await trust_server.publish({"root": root.to_bytes()})).status == 200
    targets = _next(await trust_server.state(), "targets", Targets)
    targets.sign(_key(author, "targets"))
    await _refused(trust_server, {"targets": targets.to_bytes()}, "INVALID_UPDATE", "ErrBadTargets")
    targets.sign(second)
    assert (await trust_server.publish({"targets": targets.to_bytes()})).status == 200


async def test_version_that_does_not_increase(trust_server, author):
    state = await trust_server.state()
    targets = Metadata.from_bytes(state["targets"], Targets)
    targets.signed.targets["v2"] = FileMeta.for_digest("cd" * 32, 5)
    targets.signatures = []
    targets.sign(_key(author, "targets"))  # validly signed, same version as stored
    await _refused(trust_server, {"targets": targets.to_bytes()}, "VERSION")
    await _refused(trust_server, {"root": state["root"]}, "VERSION")


async def test_expired_metadata(trust_server, author):
    targets = _next(await trust_server.state(), "targets", Targets)
    targets.signed.expires = format_time(NOW - dt.timedelta(minutes=1))
    targets.sign(_key(author, "targets"))
    await _refused(trust_server, {"targets": targets.to_bytes()}, "INVALID_UPDATE", "ErrBadTargets")


async def test_client_snapshot_with_wrong_hashes(trust_server, tmp_path):
    repository = trust_server.repository(tmp_path / "local-snapshot")
    await run(repository.initialize, server_managed_snapshot=False)
    state = await trust_server.state()
    targets = _next(state, "targets", Targets)
    targets.signed.targets["v1"] = FileMeta.for_digest("ab" * 32, 5)
    targets.sign(_key(repository, "targets"))
    snapshot = _next(state, "snapshot", Snapshot)
    snapshot.signed.meta["targets"] = FileMeta.for_bytes(state["targets"])  # the old targets
    snapshot.sign(_key(repository, "snapshot"))
    files = {"targets": targets.to_bytes(), "snapshot": snapshot.to_bytes()}
    await _refused(trust_server, files, "INVALID_UPDATE", "ErrBadSnapshot")
    snapshot.signatures = []
    snapshot.signed.meta["targets"] = FileMeta.for_bytes(files["targets"])
    snapshot.sign(_key(repository, "snapshot"))
    files["snapshot"] = snapshot.to_bytes()
    assert (await trust_server.publish(files)).status == 200
    # and without a snapshot, a server that lacks the snapshot key says so
    targets = _next(await trust_server.state(), "targets", Targets)
    targets.sign(_key(repository, "targets"))
    error = await _refused(trust_server, {"targets": targets.to_bytes()}, "INVALID_UPDATE")
    assert error["detail"]["Name"] == "ErrBadHierarchy"
    assert error["detail"]["Error"]["Missing"] == "snapshot"


async def test_root_rotation_not_signed_by_the_old_root(trust_server, author):
    root = _next(await trust_server.state(), "root", Root)
    attacker = PrivateKey.generate_ecdsa()
    certificate = make_root_certificate(attacker, GUN, NOW)
    root.signed.keys[certificate.key_id] = certificate
    root.signed.roles["root"] = RootRole([certificate.key_id], 1)
    root.sign(attacker, certificate)
    await _refused(trust_server, {"root": root.to_bytes()}, "INVALID_UPDATE", "ErrBadRoot")
    stored_root = Metadata.from_bytes((await trust_server.state())["root"], Root)
    old_certificate = next(iter(stored_root.signed.role_keys("root")[0].values()))
    root.sign(_key(author, "root"), old_certificate)  # old and new keys: a valid rotation
    assert (await trust_server.publish({"root": root.to_bytes()})).status == 200


async def test_root_version_must_go_up_by_one(trust_server, author):
    root = _next(await trust_server.state(), "root", Root)
    root.signed.version += 1
    old_certificate = next(iter(root.signed.role_keys("root")[0].values()))
    root.sign(_key(author, "root"), old_certificate)
    error = await _refused(trust_server, {"root": root.to_bytes()}, "INVALID_UPDATE", "ErrBadRoot")
    assert "must increment the version" in error["detail"]["Error"]["Msg"]


async def test_root_certificate_for_another_gun(trust_server, tmp_path):
    other = trust_server.repository(tmp_path / "o", gun="127.0.0.1:5000/team/other")
    keys = {role: PrivateKey.generate_ecdsa() for role in ("root", "targets")}
    certificate = make_root_certificate(keys["root"], "127.0.0.1:5000/team/other", NOW)
    timestamp = await run(other.remote.get_key, "timestamp")
    snapshot = await run(other.remote.get_key, "snapshot")
    public = {
        "root": certificate,
        "targets": keys["targets"].public_key(),
        "snapshot": snapshot,
        "timestamp": timestamp,
    }
    root = Metadata(
        Root(
            1,
            format_time(NOW + dt.timedelta(days=3650)),
            {key.key_id: key for key in public.values()},
            {role: RootRole([key.key_id], 1) for role, key in public.items()},
        )
    )
    root.sign(keys["root"], certificate)
    targets = Metadata(Targets(1, format_time(NOW + dt.timedelta(days=1000))))
    targets.sign(keys["targets"])
    files = {"root": root.to_bytes(), "targets": targets.to_bytes()}
    await _refused(trust_server, files, "INVALID_UPDATE", "ErrBadRoot")  # published as GUN


async def test_delegated_role_outside_its_paths(trust_server, author, tmp_path):
    alice = PrivateKey.generate_ecdsa()
    await run(author.add_delegation, "targets/alice", [alice.public_key()], ["alice/"])
    delegated = Metadata(Targets(1, format_time(NOW + dt.timedelta(days=100))))
    delegated.signed.targets["v1"] = FileMeta.for_digest("cd" * 32, 5)
    delegated.sign(alice)
    error = await _refused(
        trust_server, {"targets/alice": delegated.to_bytes()}, "INVALID_UPDATE", "ErrBadTargets"
    )
    assert "outside its paths" in error["detail"]["Error"]["Msg"]
    delegated.signed.targets = {"alice/v1": FileMeta.for_digest("cd" * 32, 5)}
    delegated.signatures = []
    delegated.sign(alice)
    assert (await trust_server.publish({"targets/alice": delegated.to_bytes()})).status == 200
    # a role nobody delegated, and a delegation signed by the wrong key
    await _refused(
        trust_server, {"targets/bob": delegated.to_bytes()}, "INVALID_UPDATE", "ErrBadTargets"
    )
    delegated.signed.version = 2
    delegated.signatures = []
    delegated.sign(PrivateKey.generate_ecdsa())
    await _refused(
        trust_server, {"targets/alice": delegated.to_bytes()}, "INVALID_UPDATE", "ErrBadTargets"
    )


async def test_parent_cannot_delegate_to_a_non_child(trust_server, author):
    targets = _next(await trust_server.state(), "targets", Targets)
    targets.signed.delegations.roles.append(DelegatedRole("targets/a/b", [], 1, [""]))
    targets.sign(_key(author, "targets"))
    await _refused(trust_server, {"targets": targets.to_bytes()}, "INVALID_UPDATE", "ErrBadTargets")


async def test_client_timestamp_is_ignored(trust_server, author):
    state = await trust_server.state()
    targets = _next(state, "targets", Targets)
    targets.sign(_key(author, "targets"))
    forged = b'{"signed":{"_type":"Timestamp"},"signatures":[]}'
    response = await trust_server.publish({"targets": targets.to_bytes(), "timestamp": forged})
    assert response.status == 200
    after = await trust_server.state()
    assert after["timestamp"] != forged
    assert Metadata.from_bytes(after["timestamp"]).signed.version == (
        Metadata.from_bytes(state["timestamp"]).signed.version + 1
    )
