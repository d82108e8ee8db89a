"""`berth push/pull` with Docker Content Trust against Berth's trust server (issue 5).

The trust server is Berth's stand-alone one over TLS (`tests.integration.trust.support`), the
registry Debian's reference registry; berth finds the server through
`DOCKER_CONTENT_TRUST_SERVER` and its CA in `<docker config>/tls/<host:port>/ca.crt`, as Docker
does. Docker's own CLI then verifies what berth signed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.trust.support import BerthTrustServer
from tests.support.berth_cli import BerthCli
from tests.support.commands import run_command
from tests.support.dockerd import docker_cli
from tests.support.images import BuiltImage, OciLayout
from tests.support.reference_registry import ReferenceRegistry
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.slow

ROOT_PASSPHRASE = "berth-root-secret"
REPOSITORY_PASSPHRASE = "berth-repo-secret"


@pytest.fixture(scope="module")
def trust_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BerthTrustServer]:
    """Berth's trust server over TLS in a background thread."""
    server = BerthTrustServer(tmp_path_factory.mktemp("berth-trust"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def trusting_berth(root: Path, server: BerthTrustServer) -> BerthCli:
    """A berth CLI with content trust on, passphrases set and the server's CA installed."""
    berth = BerthCli(root, {
        "DOCKER_CONTENT_TRUST": "1",
        "DOCKER_CONTENT_TRUST_SERVER": server.url,
        "DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE": ROOT_PASSPHRASE,
        "DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE": REPOSITORY_PASSPHRASE,
    })
    ca_dir = root / "docker-config" / "tls" / server.url.removeprefix("https://")
    ca_dir.mkdir(parents=True)
    shutil.copy(server.ca, ca_dir / "ca.crt")
    return berth


def test_signed_push_verified_pull_unsigned_refused(
    tmp_path: Path, trust_server: BerthTrustServer, reference_registry: ReferenceRegistry,
    skopeo: Skopeo, oci_layout: OciLayout, built_image: BuiltImage, dockerd,
) -> None:
    host = reference_registry.host
    source = f"{host}/trust-src/busybox:v1"
    skopeo.run("copy", "--dest-tls-verify=false", oci_layout.reference, f"docker://{source}")
    signer = trusting_berth(tmp_path / "signer", trust_server)
    signer("pull", "--disable-content-trust", source)
    signed = f"{host}/trusted/busybox:signed"
    signer("tag", source, signed)
    result = signer("push", signed)
    assert f"Successfully signed {signed}" in result.stdout
    keys = list((signer.root / "docker-config" / "trust" / "private").glob("*.key"))
    assert len(keys) == 2  # the offline root key and the repository's tagging key
    # An unsigned tag in the same repository, pushed with trust off.
    unsigned = f"{host}/trusted/busybox:unsigned"
    signer("tag", source, unsigned)
    signer("push", "--disable-content-trust", unsigned)

    puller = trusting_berth(tmp_path / "puller", trust_server)
    result = puller("pull", signed)
    assert f"Tagging {host}/trusted/busybox@{built_image.manifest_digest} as {signed}" \
        in result.stderr
    inspect = puller("image", "inspect", "--format", "{{.Id}}", signed)
    assert inspect.stdout.strip() == built_image.config_digest
    result = puller("pull", unsigned, check=False)
    assert result.returncode == 1
    assert "No valid trust data for unsigned" in result.stderr
    assert puller("images", "-q", f"{host}/trusted/busybox:unsigned").stdout == ""
    # Re-pointing the signed tag in the registry (here: the same image converted to a Docker
    # schema 2 manifest, so another digest) does not change what a trusting pull gets.
    skopeo.run("copy", "--dest-tls-verify=false", "--format", "v2s2", oci_layout.reference,
               f"docker://{signed}")
    puller("rmi", signed)
    puller("pull", signed)
    inspect = puller("image", "inspect", "--format", "{{json .RepoDigests}}", signed)
    assert built_image.manifest_digest in inspect.stdout
    # Without trust data at all, a trusting pull is refused.
    result = puller("pull", source, check=False)
    assert result.returncode == 1 and "does not have trust data" in result.stderr

    # Docker's own content trust accepts berth's signature.
    env = {**dockerd.env(), "DOCKER_CONFIG": str(puller.root / "docker-config"),
           "DOCKER_CONTENT_TRUST": "1", "DOCKER_CONTENT_TRUST_SERVER": trust_server.url}
    try:
        out = run_command([str(docker_cli()), "pull", signed], env=env).stdout
        assert built_image.manifest_digest in out
    finally:
        dockerd.run("rmi", signed, check=False)


def test_trust_inspect_signer_sign_and_revoke(
    tmp_path: Path, trust_server: BerthTrustServer, reference_registry: ReferenceRegistry,
    skopeo: Skopeo, oci_layout: OciLayout, built_image: BuiltImage,
) -> None:
    host = reference_registry.host
    repo = f"{host}/trust-cmds/busybox"
    source = f"{host}/trust-cmds-src/busybox:v1"
    skopeo.run("copy", "--dest-tls-verify=false", oci_layout.reference, f"docker://{source}")
    admin = trusting_berth(tmp_path / "admin", trust_server)
    admin("pull", "--disable-content-trust", source)
    admin("tag", source, f"{repo}:v1")
    assert f"Successfully signed {repo}:v1" in admin("trust", "sign", f"{repo}:v1").stdout
    [doc] = json.loads(admin("trust", "inspect", repo).stdout)
    assert doc["Name"] == repo
    assert doc["SignedTags"] == [{"SignedTag": "v1",
                                  "Digest": built_image.manifest_digest.removeprefix("sha256:"),
                                  "Signers": ["Repo Admin"]}]
    assert [k["Name"] for k in doc["AdministrativeKeys"]] == ["Root", "Repository"]

    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    out = admin("trust", "key", "generate", "alice", "--dir", str(keys_dir)).stdout
    assert "Successfully generated and loaded private key" in out
    out = admin("trust", "signer", "add", "--key", str(keys_dir / "alice.pub"), "alice",
                repo).stdout
    assert "Successfully added signer: alice" in out
    admin("tag", source, f"{repo}:v2")
    admin("trust", "sign", f"{repo}:v2")
    [doc] = json.loads(admin("trust", "inspect", f"{repo}:v2").stdout)
    assert [t["SignedTag"] for t in doc["SignedTags"]] == ["v2"]
    assert doc["SignedTags"][0]["Signers"] == ["alice"]
    assert [s["Name"] for s in doc["Signers"]] == ["alice"]
    pretty = admin("trust", "inspect", "--pretty", repo).stdout
    assert f"Signatures for {repo}" in pretty and "alice" in pretty

    assert admin("trust", "revoke", f"{repo}:v1").stdout == \
        f"Successfully deleted signature for {repo}:v1\n"
    puller = trusting_berth(tmp_path / "puller", trust_server)
    result = puller("pull", f"{repo}:v1", check=False)
    assert result.returncode == 1 and "No valid trust data for v1" in result.stderr
    puller("pull", f"{repo}:v2")
    out = admin("trust", "signer", "remove", "alice", repo).stdout
    assert "Successfully removed alice" in out


def test_a_client_policy_counting_dct_and_verify_dct(
    tmp_path: Path, trust_server: BerthTrustServer, reference_registry: ReferenceRegistry,
    skopeo: Skopeo, oci_layout: OciLayout,
) -> None:
    host = reference_registry.host
    source = f"{host}/trust-src/busybox:v1"
    skopeo.run("copy", "--dest-tls-verify=false", oci_layout.reference, f"docker://{source}")
    signer = trusting_berth(tmp_path / "signer", trust_server)
    signer("pull", "--disable-content-trust", source)
    signed = f"{host}/policy-dct/busybox:signed"
    signer("tag", source, signed)
    signer("sign", "--format", "dct", signed)
    # Another digest (the same image as a Docker schema 2 manifest), never signed.
    unsigned = f"{host}/policy-dct/busybox:unsigned"
    skopeo.run("copy", "--dest-tls-verify=false", "--format", "v2s2", oci_layout.reference,
               f"docker://{unsigned}")

    puller = trusting_berth(tmp_path / "puller", trust_server)
    policy = tmp_path / "policy.json"
    policy.write_text('{"formats": ["dct"]}')
    # Content trust off: the policy alone asks the trust data whether a signed tag names
    # the digest.
    puller("pull", "--disable-content-trust", "--policy", str(policy), signed)
    refused = puller("pull", "--disable-content-trust", "--policy", str(policy), unsigned,
                     check=False)
    assert refused.returncode == 1
    assert "not signed as the signature policy requires: dct: no signed tag names this digest" \
        in refused.stderr
    # --verify dct is Docker Content Trust itself, whatever the environment says.
    refused = puller("pull", "--disable-content-trust", "--verify", "dct", unsigned,
                     check=False)
    assert refused.returncode == 1 and "No valid trust data for unsigned" in refused.stderr
    assert puller("pull", "--verify", "none", unsigned).returncode == 0
