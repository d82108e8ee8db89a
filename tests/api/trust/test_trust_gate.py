"""The verification gate's lookups from stored trust data."""

from __future__ import annotations

import datetime as dt

from tests.api.trust.conftest import GUN, run
from trust.keystore import KeyStore
from trust.server.app import TRUST_GATE
from trust.signer import Repository
from trust.tuf.keys import PrivateKey


async def test_gate_answers_signed_tags_and_digests(trust_server, tmp_path):
    gate = trust_server.client.app[TRUST_GATE]
    assert await gate.signed_target(GUN, "v1") is None  # no trust data at all
    author = trust_server.repository(tmp_path / "a")
    await run(author.initialize)
    assert await gate.signed_target(GUN, "v1") is None
    await run(author.sign_target, "v1", "ab" * 32, 10)
    signed = await gate.signed_target(GUN, "v1")
    assert signed.digest == "sha256:" + "ab" * 32 and signed.role == "targets"
    assert await gate.signed_digests(GUN) == {"sha256:" + "ab" * 32}

    # a delegated release overrides targets, as in Docker; a revoked tag is unsigned again
    alice_store = KeyStore(tmp_path / "alice")
    alice = PrivateKey.generate_ecdsa()
    alice_store.add(alice, "alice", "", "repo-pass")
    await run(author.add_signer, "alice", [alice.public_key()])
    alice_repo = Repository(GUN, author.remote, alice_store, author.passphrases)
    await run(alice_repo.sign_target, "v1", "cd" * 32, 11)
    assert (await gate.signed_target(GUN, "v1")).digest == "sha256:" + "cd" * 32
    await run(alice_repo.remove_target, "v1")
    await run(author.remove_target, "v1")
    assert await gate.signed_target(GUN, "v1") is None


async def test_gate_refuses_trust_data_that_no_longer_verifies(trust_server, tmp_path):
    author = trust_server.repository(tmp_path / "a")
    await run(author.initialize)
    await run(author.sign_target, "v1", "ab" * 32, 10)
    gate = trust_server.client.app[TRUST_GATE]
    assert await gate.signed_target(GUN, "v1") is not None
    # four years on, the targets role (3 years) has expired; the timestamp is re-signed
    trust_server.set_clock(dt.datetime.now(dt.UTC) + dt.timedelta(days=4 * 365))
    assert await gate.signed_target(GUN, "v1") is None
