"""The `docker trust inspect` report computed by Berth."""

from tests.unit.trust.values import DIGEST_A, DIGEST_B, GUN, NOW, passphrases
from trust.client.inspect import inspect_repository
from trust.keystore import KeyStore
from trust.signer import Repository
from trust.tuf.keys import PrivateKey


def test_report_names_tags_signers_and_keys(repo, server, client, tmp_path):
    repo.sign_target("v1", DIGEST_A, 10)
    bob_store = KeyStore(tmp_path / "bob")
    bob = PrivateKey.generate_ecdsa()
    bob_store.add(bob, "bob", "", "repo-pass")
    repo.add_signer("bob", [bob.public_key()])
    Repository(GUN, server, bob_store, passphrases, clock=lambda: NOW).sign_target(
        "v2", DIGEST_B, 20
    )
    trusted = client().refresh()
    report = inspect_repository(trusted, "hub/app").to_docker_json()
    assert report["Name"] == "hub/app"
    assert report["SignedTags"] == [
        {"SignedTag": "v1", "Digest": DIGEST_A, "Signers": ["Repo Admin"]},
        {"SignedTag": "v2", "Digest": DIGEST_B, "Signers": ["bob"]},
    ]
    assert report["Signers"] == [{"Name": "bob", "Keys": [{"ID": bob.key_id}]}]
    root_ids = sorted(trusted.root.signed.roles["root"].keyids)
    assert report["AdministrativeKeys"][0] == {
        "Name": "Root",
        "Keys": [{"ID": i} for i in root_ids],
    }
    one = inspect_repository(trusted, "hub/app:v2", tag="v2")
    assert [t.tag for t in one.signed_tags] == ["v2"]
