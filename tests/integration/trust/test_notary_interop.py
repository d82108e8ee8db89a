"""Interoperability with the real notary CLI and notary-server (Debian's `notary` package).

A notary-server with in-memory storage and its local (ed25519) signing service runs over TLS
on a free loopback port. The notary CLI and Berth's trust library take turns on the same
repositories and key directories, each verifying what the other wrote.
"""

import datetime as dt
import hashlib
import json
import shutil
import ssl
import subprocess
import urllib.request

import pytest

from registry.tlscerts import make_dev_certificates
from tests.integration.trust.support import notary, passphrases
from tests.support.ports import free_port, wait_until
from tests.support.processes import stop_process
from trust.client.cache import MetadataCache
from trust.client.updater import Updater, list_targets, resolve
from trust.keystore import KeyStore
from trust.remote import HttpRemoteStore
from trust.signer import RELEASES_ROLE, Repository
from trust.tuf.keys import PrivateKey, make_root_certificate

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (shutil.which("notary") and shutil.which("notary-server")),
        reason="notary and notary-server binaries are not installed",
    ),
]


# Seconds notary-server may take to answer its health check on a loaded machine.
NOTARY_START_TIMEOUT = 60.0
# Fresh ports to try when the picked one was taken before notary-server bound it.
PORT_ATTEMPTS = 5


def _start_notary_server(directory, certificates, context):
    """Start notary-server on a free port; return (process, url, log file) once healthy."""
    for _ in range(PORT_ATTEMPTS):
        port = free_port()
        config = {
            "server": {
                "http_addr": f"127.0.0.1:{port}",
                "tls_cert_file": str(certificates.cert),
                "tls_key_file": str(certificates.key),
            },
            "trust_service": {"type": "local"},
            "logging": {"level": "info"},
            "storage": {"backend": "memory"},
        }
        (directory / "config.json").write_text(json.dumps(config))
        log_path = directory / "server.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            ["notary-server", "-config", str(directory / "config.json")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"https://127.0.0.1:{port}"

        def healthy(url=url) -> bool:
            try:
                with urllib.request.urlopen(f"{url}/_notary_server/health", context=context,
                                            timeout=5):
                    return True
            except OSError:
                return False

        # A stranger that took the port would not answer over TLS with this CA's certificate.
        up = wait_until(lambda p=process: p.poll() is not None or healthy(), NOTARY_START_TIMEOUT,
                        interval=0.1)
        if up and process.poll() is None:
            return process, url, log
        stop_process(process)
        log.close()
        output = log_path.read_text(errors="replace")
        if "address already in use" not in output:
            pytest.fail(f"notary-server did not start:\n{output}")
    pytest.fail("notary-server found no free port")


@pytest.fixture(scope="module")
def notary_server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("notary-server")
    certificates = make_dev_certificates(directory)
    context = ssl.create_default_context(cafile=str(certificates.ca_cert))
    process, url, log = _start_notary_server(directory, certificates, context)
    try:
        yield {"url": url, "ca": str(certificates.ca_cert), "context": context}
    finally:
        stop_process(process)
        log.close()


def remote(server, gun):
    return HttpRemoteStore(server["url"], gun, ssl_context=server["context"])


def test_notary_publishes_and_berth_verifies_and_reuses_its_keys(notary_server, tmp_path):
    gun = "127.0.0.1:5000/interop/from-notary"
    notary_dir = tmp_path / "notary"
    content = b'{"schemaVersion":2}'
    (tmp_path / "manifest.json").write_bytes(content)
    notary(notary_server, notary_dir, "init", gun)
    notary(notary_server, notary_dir, "add", "-p", gun, "v1", str(tmp_path / "manifest.json"))

    updater = Updater(gun, remote(notary_server, gun), MetadataCache(tmp_path / "berth", gun))
    trusted = updater.refresh()
    signed = resolve(trusted, "v1")
    assert (signed.sha256, signed.length) == (hashlib.sha256(content).hexdigest(), len(content))
    assert (tmp_path / "berth" / "tuf" / gun / "metadata" / "timestamp.json").is_file()

    # Our key store reads every key the notary CLI wrote, with its role and GUN.
    store = KeyStore(notary_dir)
    infos = store.list_keys()
    assert sorted(info.role for info in infos.values()) == ["root", "snapshot", "targets"]
    for key_id, info in infos.items():
        assert store.get(key_id, passphrases(info.role)).key_id == key_id
    root_cert = next(iter(trusted.root.signed.role_keys("root")[0].values()))
    assert store.find("root") == [root_cert.canonical_id()]

    # Berth signs with notary's own keys; notary (which signs snapshots locally) sees it.
    repository = Repository(gun, remote(notary_server, gun), store, passphrases)
    repository.sign_target("v2", "cd" * 32, 42)
    listing = notary(notary_server, notary_dir, "list", gun)
    assert "v1" in listing and "v2" in listing and "cd" * 32 in listing
    assert resolve(updater.refresh(), "v2").sha256 == "cd" * 32


def test_berth_creates_and_notary_uses_berths_keys(notary_server, tmp_path):
    gun = "127.0.0.1:5000/interop/from-berth"
    berth_dir = tmp_path / "berth"
    repository = Repository(gun, remote(notary_server, gun), KeyStore(berth_dir), passphrases)
    repository.initialize()  # Docker's way: server-held snapshot and timestamp keys
    repository.sign_target("v1", "ab" * 32, 7)

    listing = notary(notary_server, berth_dir, "list", gun)
    assert "v1" in listing and "ab" * 32 in listing
    # notary signs a second tag with the targets key Berth's store wrote.
    (tmp_path / "blob").write_bytes(b"second")
    notary(notary_server, berth_dir, "add", "-p", gun, "v2", str(tmp_path / "blob"))
    assert "v2" in notary(notary_server, berth_dir, "list", gun)
    trusted = repository.refresh()
    assert resolve(trusted, "v2").sha256 == hashlib.sha256(b"second").hexdigest()

    # A fresh notary client (empty trust directory) trusts Berth's root on first use.
    fresh = notary(notary_server, tmp_path / "fresh", "list", gun)
    assert "v1" in fresh and "v2" in fresh


def test_notary_key_rotations_keep_an_old_berth_client_verifying(notary_server, tmp_path):
    gun = "127.0.0.1:5000/interop/rotate"
    notary_dir = tmp_path / "notary"
    (tmp_path / "blob").write_bytes(b"rotate me")
    notary(notary_server, notary_dir, "init", "-p", gun)
    notary(notary_server, notary_dir, "add", "-p", gun, "v1", str(tmp_path / "blob"))
    old_client = Updater(gun, remote(notary_server, gun), MetadataCache(tmp_path / "old", gun))
    old_client.refresh()

    notary(notary_server, notary_dir, "key", "rotate", gun, "timestamp", "-r")
    notary(notary_server, notary_dir, "key", "rotate", gun, "snapshot", "-r")
    for _ in range(2):  # notary asks for confirmation before rotating root
        out = notary(notary_server, notary_dir, "key", "rotate", gun, "root", answer="yes\n")
        assert "Successfully rotated root key" in out
    trusted = old_client.refresh()
    assert trusted.root.signed.version >= 5
    assert resolve(trusted, "v1").sha256 == hashlib.sha256(b"rotate me").hexdigest()


def test_delegation_with_a_certificate_key_added_by_notary(notary_server, tmp_path):
    gun = "127.0.0.1:5000/interop/delegation"
    owner_dir = tmp_path / "owner"
    notary(notary_server, owner_dir, "init", "-p", gun)
    # A delegate cannot sign snapshots: the server must hold the snapshot key.
    notary(notary_server, owner_dir, "key", "rotate", gun, "snapshot", "-r")
    alice_store = KeyStore(tmp_path / "alice")
    alice = PrivateKey.generate_ecdsa()
    alice_store.add(alice, RELEASES_ROLE, "", "repo-secret")
    certificate = make_root_certificate(alice, "alice", dt.datetime.now(dt.UTC))
    (tmp_path / "alice.crt").write_bytes(certificate.public)
    notary(
        notary_server,
        owner_dir,
        "delegation",
        "add",
        "-p",
        gun,
        RELEASES_ROLE,
        str(tmp_path / "alice.crt"),
        "--all-paths",
    )
    alice_repo = Repository(gun, remote(notary_server, gun), alice_store, passphrases)
    assert alice_repo.sign_target("v1", "ef" * 32, 3) == [RELEASES_ROLE]
    listing = notary(notary_server, tmp_path / "reader", "list", gun)
    assert "v1" in listing and RELEASES_ROLE in listing
    trusted = Updater(gun, remote(notary_server, gun), MetadataCache(tmp_path / "c", gun)).refresh()
    assert resolve(trusted, "v1").role == RELEASES_ROLE
    assert list(list_targets(trusted)) == ["v1"]


def test_notary_delete_remote_is_seen_by_berth(notary_server, tmp_path):
    gun = "127.0.0.1:5000/interop/delete"
    notary_dir = tmp_path / "notary"
    notary(notary_server, notary_dir, "init", "-p", gun)
    notary(notary_server, notary_dir, "delete", gun, "--remote")
    from trust.tuf.errors import RepositoryNotInitializedError

    with pytest.raises(RepositoryNotInitializedError):
        Updater(gun, remote(notary_server, gun), MetadataCache(tmp_path / "c", gun)).refresh()
