"""Docker Content Trust with the real Docker CLI 28 and dockerd against Berth.

Two set-ups: Berth's stand-alone trust server (SQLite, TLS) beside Debian's reference
registry, and the Berth hub serving registry and trust on one TLS origin (Docker's usual
`DOCKER_CONTENT_TRUST_SERVER=https://<registry>`).
"""

from __future__ import annotations

import json
import shutil
import ssl
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.tlscerts import make_dev_certificates
from tests.integration.trust.support import BerthTrustServer, start_auth_hub
from tests.support.commands import run_command
from tests.support.dockerd import docker_cli
from tests.support.hub import HubProcess
from tests.support.images import DOCKER_ARCHIVE_TAG
from tests.support.reference_registry import (
    ReferenceRegistry,
    ReferenceRegistryUnavailableError,
)
from trust.client.cache import MetadataCache
from trust.client.inspect import inspect_repository
from trust.client.updater import Updater, resolve
from trust.keystore import KeyInfo, KeyStore
from trust.keystore.pem import public_key_from_pem
from trust.remote import HttpRemoteStore

pytestmark = [pytest.mark.slow, pytest.mark.docker]

ROOT_PASSPHRASE = "docker-root-secret"
REPOSITORY_PASSPHRASE = "docker-repo-secret"


@dataclass
class Setup:
    """Where images go (`registry_host`) and where trust data goes (`url`, trusted via `cert`)."""

    registry_host: str
    url: str
    cert: Path


@pytest.fixture(scope="module", params=["standalone", "hub"])
def trust_server(request, tmp_path_factory):
    """Berth's trust service two ways: stand-alone beside Debian's registry, or in the hub."""
    workdir = tmp_path_factory.mktemp(request.param)
    if request.param == "standalone":
        try:
            registry = ReferenceRegistry(workdir / "registry").start()
        except ReferenceRegistryUnavailableError as error:
            pytest.skip(str(error))
        server = BerthTrustServer(workdir)
        try:
            server.start()
            yield Setup(registry.host, server.url, server.ca)
        finally:
            server.stop()
            registry.stop()
        return
    certificates = make_dev_certificates(workdir / "tls")
    hub = HubProcess(workdir / "data", workdir / "hub.log", tls=certificates)
    hub.start()
    try:
        yield Setup(hub.host, hub.url, certificates.ca_cert)
    finally:
        hub.stop()


class Docker:
    """The docker CLI with its own config directory (trust keys and cache) and DCT on."""

    def __init__(self, dockerd, config_dir, trust_server):
        self.env = dockerd.env()
        self.env.update(
            DOCKER_CONFIG=str(config_dir),
            DOCKER_CONTENT_TRUST="1",
            DOCKER_CONTENT_TRUST_SERVER=trust_server.url,
            DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE=ROOT_PASSPHRASE,
            DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE=REPOSITORY_PASSPHRASE,
        )
        ca_dir = config_dir / "tls" / trust_server.url.removeprefix("https://")
        ca_dir.mkdir(parents=True)
        shutil.copy(trust_server.cert, ca_dir / "ca.crt")
        self.config_dir = config_dir

    def __call__(self, *args, check=True, trust=True, input=None):
        env = dict(self.env)
        if not trust:
            env.pop("DOCKER_CONTENT_TRUST")
        return run_command([docker_cli(), *args], env=env, check=check, timeout=300, input=input)


def _digest(docker, reference):
    out = docker("image", "inspect", "--format", "{{json .RepoDigests}}", reference).stdout
    return json.loads(out)[0].split("@", 1)[1]


def test_signed_push_verified_pull_and_unsigned_refusal(
    dockerd, docker_archive, trust_server, tmp_path
):
    if docker_cli() is None:
        pytest.skip("no docker CLI")
    docker = Docker(dockerd, tmp_path / "author", trust_server)
    docker("load", "--input", str(docker_archive))
    name = f"{trust_server.registry_host}/trust/app"
    docker("tag", DOCKER_ARCHIVE_TAG, f"{name}:v1")
    pushed = docker("push", f"{name}:v1")
    assert "Signing and pushing trust metadata" in pushed.stdout + pushed.stderr
    digest = _digest(docker, f"{name}:v1")

    # Berth's client verifies what Docker signed, with Docker's keys in Docker's layout.
    gun = name
    context = ssl.create_default_context(cafile=str(trust_server.cert))
    remote = HttpRemoteStore(trust_server.url, gun, ssl_context=context)
    trusted = Updater(gun, remote, MetadataCache(tmp_path / "berth", gun)).refresh()
    assert resolve(trusted, "v1").digest == digest
    keys = list((tmp_path / "author" / "trust" / "private").glob("*.key"))
    assert len(keys) == 2

    # A fresh client (empty trust directory) pulls and verifies.
    reader = Docker(dockerd, tmp_path / "reader", trust_server)
    docker("rmi", f"{name}:v1")
    pulled = reader("pull", f"{name}:v1")
    assert digest in pulled.stdout
    inspect = reader("trust", "inspect", "--pretty", f"{name}:v1").stdout
    assert "v1" in inspect and digest.removeprefix("sha256:") in inspect

    # A tag pushed without signing pulls without DCT and is refused with it.
    docker("tag", DOCKER_ARCHIVE_TAG, f"{name}:unsigned")
    docker("push", f"{name}:unsigned", trust=False)
    refused = reader("pull", f"{name}:unsigned", check=False)
    assert refused.returncode != 0
    assert "No valid trust data for unsigned" in refused.stderr
    reader("pull", f"{name}:unsigned", trust=False)


def test_trust_sign_revoke_and_delegated_signer(dockerd, docker_archive, trust_server, tmp_path):
    if docker_cli() is None:
        pytest.skip("no docker CLI")
    owner = Docker(dockerd, tmp_path / "owner", trust_server)
    owner("load", "--input", str(docker_archive))
    name = f"{trust_server.registry_host}/trust/signers"
    owner("tag", DOCKER_ARCHIVE_TAG, f"{name}:v1")
    owner("push", f"{name}:v1")
    owner("tag", DOCKER_ARCHIVE_TAG, f"{name}:v2")
    owner("trust", "sign", f"{name}:v2")
    reader = Docker(dockerd, tmp_path / "reader", trust_server)
    reader("pull", f"{name}:v2")
    owner("trust", "revoke", "--yes", f"{name}:v2")
    refused = reader("pull", f"{name}:v2", check=False)
    assert refused.returncode != 0

    # alice: a key generated by the docker CLI, added as signer, signs a tag from her own
    # trust directory (her key loaded there), and a fresh client pulls it.
    alice = Docker(dockerd, tmp_path / "alice", trust_server)
    alice("trust", "key", "generate", "alice", "--dir", str(tmp_path))
    # Berth reads both halves Docker wrote: alice.pub and the encrypted key in alice's store.
    alice_public = public_key_from_pem((tmp_path / "alice.pub").read_bytes())
    alice_keys = KeyStore(tmp_path / "alice" / "trust")
    assert alice_keys.list_keys() == {alice_public.key_id: KeyInfo("alice", "")}
    assert alice_keys.get(alice_public.key_id, REPOSITORY_PASSPHRASE).matches(alice_public)
    owner("trust", "signer", "add", "--key", str(tmp_path / "alice.pub"), "alice", name)
    alice("tag", DOCKER_ARCHIVE_TAG, f"{name}:alice")
    alice("trust", "sign", f"{name}:alice")
    pulled = Docker(dockerd, tmp_path / "fresh", trust_server)("pull", f"{name}:alice")
    assert "Status:" in pulled.stdout
    inspect = reader("trust", "inspect", f"{name}").stdout
    docker_report = json.loads(inspect)[0]
    signed = {entry["SignedTag"]: entry["Signers"] for entry in docker_report["SignedTags"]}
    assert signed["alice"] == ["alice"] and "v2" not in signed and signed["v1"] == ["Repo Admin"]

    # Berth's inspect report says what Docker's says.
    context = ssl.create_default_context(cafile=str(trust_server.cert))
    remote = HttpRemoteStore(trust_server.url, name, ssl_context=context)
    trusted = Updater(name, remote, MetadataCache(tmp_path / "berth", name)).refresh()
    assert inspect_repository(trusted, name).to_docker_json() == docker_report


@pytest.fixture(scope="module")
def auth_hub(tmp_path_factory):
    """A hub over TLS with accounts (login required to push), user alice."""
    hub, certificates = start_auth_hub(
        tmp_path_factory.mktemp("auth-hub"), {"alice": "alice-password-1"}
    )
    try:
        yield Setup(hub.host, hub.url, certificates.ca_cert)
    finally:
        hub.stop()


def test_signed_push_and_pull_through_token_auth(dockerd, docker_archive, auth_hub, tmp_path):
    if docker_cli() is None:
        pytest.skip("no docker CLI")
    alice = Docker(dockerd, tmp_path / "alice", auth_hub)
    alice(
        "login",
        auth_hub.registry_host,
        "-u",
        "alice",
        "--password-stdin",
        input=b"alice-password-1",
    )
    alice("load", "--input", str(docker_archive))
    name = f"{auth_hub.registry_host}/alice/signed"
    alice("tag", DOCKER_ARCHIVE_TAG, f"{name}:v1")
    pushed = alice("push", f"{name}:v1")
    assert "Signing and pushing trust metadata" in pushed.stdout + pushed.stderr
    digest = _digest(alice, f"{name}:v1")
    alice("rmi", f"{name}:v1")
    assert digest in alice("pull", f"{name}:v1").stdout
    anonymous = Docker(dockerd, tmp_path / "anonymous", auth_hub)
    refused = anonymous("trust", "inspect", f"{name}:v1", check=False)
    assert refused.returncode != 0 and json.loads(refused.stdout) == []  # no trust data for it
