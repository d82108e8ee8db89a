"""The real notary CLI against Berth's trust service (stand-alone with SQLite, and inside the
hub, both over TLS), and Berth's own client and signer against the same server:
init/add/publish/list, key rotations (server and root), delegations, delete --remote."""

import hashlib
import shutil
import ssl

import pytest

from registry.tlscerts import make_dev_certificates
from tests.integration.trust.support import (
    BerthTrustServer,
    notary,
    passphrases,
    start_auth_hub,
)
from tests.support.hub import HubProcess
from trust.client.cache import MetadataCache
from trust.client.updater import Updater, resolve
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.signer import RELEASES_ROLE, Repository
from trust.tuf.errors import RepositoryNotInitializedError
from trust.tuf.keys import PrivateKey

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("notary"), reason="the notary CLI is not installed"),
]


@pytest.fixture(scope="module", params=["standalone", "hub"])
def server(request, tmp_path_factory):
    """Berth's trust service stand-alone (SQLite, TLS) or inside the hub (TLS)."""
    workdir = tmp_path_factory.mktemp(request.param)
    if request.param == "standalone":
        berth = BerthTrustServer(workdir)
        berth.start()
        url, cert, stop = berth.url, berth.ca, berth.stop
    else:
        certificates = make_dev_certificates(workdir / "tls")
        hub = HubProcess(workdir / "data", workdir / "hub.log", tls=certificates)
        hub.start()
        url, cert, stop = hub.url, certificates.ca_cert, hub.stop
    try:
        context = ssl.create_default_context(cafile=str(cert))
        yield {"url": url, "ca": str(cert), "context": context}
    finally:
        stop()


def updater(server, gun, directory):
    remote = HttpRemoteStore(server["url"], gun, ssl_context=server["context"])
    return Updater(gun, remote, MetadataCache(directory, gun))


def test_notary_lifecycle_against_berth(server, tmp_path):
    gun = "127.0.0.1:5000/notary/lifecycle"
    owner = tmp_path / "owner"
    (tmp_path / "one").write_bytes(b"first manifest")
    (tmp_path / "two").write_bytes(b"second manifest")
    notary(server, owner, "init", "-p", gun)  # client-held snapshot key (notary's default)
    notary(server, owner, "add", "-p", gun, "v1", str(tmp_path / "one"))
    listing = notary(server, tmp_path / "reader", "list", gun)
    assert "v1" in listing and hashlib.sha256(b"first manifest").hexdigest() in listing

    old_client = updater(server, gun, tmp_path / "old-berth-client")
    assert resolve(old_client.refresh(), "v1").length == len(b"first manifest")

    notary(server, owner, "key", "rotate", gun, "snapshot", "-r")
    notary(server, owner, "key", "rotate", gun, "timestamp", "-r")
    for _ in range(2):
        out = notary(server, owner, "key", "rotate", gun, "root", answer="yes\n")
        assert "Successfully rotated root key" in out
    notary(server, owner, "add", "-p", gun, "v2", str(tmp_path / "two"))

    # An old notary client and an old Berth client both follow the rotations.
    listing = notary(server, tmp_path / "reader", "list", gun)
    assert "v1" in listing and "v2" in listing
    trusted = old_client.refresh()
    assert trusted.root.signed.version >= 5
    assert resolve(trusted, "v2").sha256 == hashlib.sha256(b"second manifest").hexdigest()

    notary(server, owner, "delete", gun, "--remote")
    with pytest.raises(RepositoryNotInitializedError):
        updater(server, gun, tmp_path / "fresh").refresh()


def test_docker_style_repository_and_delegation_against_berth(server, tmp_path):
    gun = "127.0.0.1:5000/berth/signed"
    remote = HttpRemoteStore(server["url"], gun, ssl_context=server["context"])
    owner = Repository(gun, remote, KeyStore(tmp_path / "owner"), passphrases)
    owner.initialize()  # server-held snapshot and timestamp keys, like `docker push`
    owner.sign_target("latest", "ab" * 32, 100)

    alice_store = KeyStore(tmp_path / "alice")
    alice_key = PrivateKey.generate_ecdsa()
    alice_store.add(alice_key, "alice", "", "repo-secret")
    owner.add_signer("alice", [alice_key.public_key()])
    alice = Repository(gun, remote, alice_store, passphrases)
    assert alice.sign_target("latest", "cd" * 32, 200) == [RELEASES_ROLE, "targets/alice"]
    alice.sign_target("rc", "ef" * 32, 300)

    # notary lists each tag once, from the first role of its walk (targets before releases)
    rows = {
        line.split()[0]: line.split()
        for line in notary(server, tmp_path / "r", "list", gun).splitlines()[2:]
    }
    assert rows["rc"][1:] == ["ef" * 32, "300", RELEASES_ROLE]
    assert rows["latest"][1:] == ["ab" * 32, "100", "targets"]
    trusted = updater(server, gun, tmp_path / "fresh").refresh()
    assert resolve(trusted, "latest").role == RELEASES_ROLE
    # notary signs with the owner's targets key that Berth's key store wrote
    (tmp_path / "blob").write_bytes(b"notary-signed")
    notary(server, tmp_path / "owner", "add", "-p", gun, "by-notary", str(tmp_path / "blob"))
    assert resolve(owner.refresh(), "by-notary").length == len(b"notary-signed")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    hub, certificates = start_auth_hub(
        tmp_path_factory.mktemp("auth-hub"), {"alice": "alice-password-1"}
    )
    try:
        yield hub, {"url": hub.url, "ca": str(certificates.ca_cert)}
    finally:
        hub.stop()


ALICE = "alice:alice-password-1"


def test_notary_publishes_through_the_hubs_token_auth(auth_server, tmp_path):
    hub, server = auth_server
    gun = f"{hub.host}/alice/notary"
    (tmp_path / "blob").write_bytes(b"behind auth")
    notary(server, tmp_path / "alice", "init", "-p", gun, auth=ALICE)
    notary(server, tmp_path / "alice", "add", "-p", gun, "v1", str(tmp_path / "blob"), auth=ALICE)
    assert "v1" in notary(server, tmp_path / "reader", "list", gun, auth=ALICE)


def test_notary_rotates_and_deletes_through_the_hubs_token_auth(auth_server, tmp_path):
    hub, server = auth_server
    gun = f"{hub.host}/alice/rotating"
    notary(server, tmp_path / "alice", "init", "-p", gun, auth=ALICE)
    notary(server, tmp_path / "alice", "key", "rotate", gun, "timestamp", "-r", auth=ALICE)
    notary(server, tmp_path / "alice", "delete", gun, "--remote", auth=ALICE)
