"""skopeo against a hub process: copy in and out, inspect, list-tags, delete, multi-arch.

Issue 2 "Must show": a multi-layer busybox image built by the tests goes into the hub and
comes back out byte for byte, and a multi-architecture index keeps its digest.
"""

from __future__ import annotations

import json
import shutil
import ssl
import urllib.request
from pathlib import Path

import pytest

from registry.oci import mediatypes
from registry.tlscerts import DevCertificates
from tests.support.commands import CommandError
from tests.support.http import http_request
from tests.support.hub import HubProcess, HubSet
from tests.support.images import BuiltImage, OciLayout, sha256_digest
from tests.support.skopeo import Skopeo

pytestmark = pytest.mark.skopeo


def read_layout(path: Path, tag: str) -> tuple[str, dict[str, bytes]]:
    """The digest tagged `tag` in the OCI layout at `path`, and all of its blobs."""
    index = json.loads((path / "index.json").read_bytes())
    roots = [entry["digest"] for entry in index["manifests"]
             if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]
    assert len(roots) == 1, index
    blobs = {"sha256:" + blob.name: blob.read_bytes()
             for blob in (path / "blobs" / "sha256").iterdir()}
    return roots[0], blobs


def test_copy_in_and_out_keeps_every_byte(
    shared_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout, tmp_path: Path
) -> None:
    remote = f"docker://{shared_hub.host}/skopeo/roundtrip:v1"
    skopeo.copy(oci_layout.reference, remote, "--preserve-digests")
    skopeo.copy(remote, f"oci:{tmp_path / 'out'}:v1", "--preserve-digests")

    root, blobs = read_layout(tmp_path / "out", "v1")
    assert root == oci_layout.root_digest
    assert blobs == oci_layout.blobs


def test_blobs_and_manifest_served_as_pushed(
    shared_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout, built_image: BuiltImage
) -> None:
    skopeo.copy(oci_layout.reference, f"docker://{shared_hub.host}/skopeo/served:v1")
    base = f"{shared_hub.url}/v2/skopeo/served"

    manifest = http_request("GET", f"{base}/manifests/v1",
                            headers={"Accept": mediatypes.OCI_MANIFEST})
    assert manifest.status == 200
    assert manifest.body == built_image.manifest
    assert manifest.headers["Docker-Content-Digest"] == built_image.manifest_digest
    assert manifest.headers["Content-Type"] == mediatypes.OCI_MANIFEST
    for digest, data in built_image.blobs().items():
        blob = http_request("GET", f"{base}/blobs/{digest}")
        assert blob.status == 200, digest
        assert blob.body == data
        assert blob.headers["Docker-Content-Digest"] == digest
        assert int(blob.headers["Content-Length"]) == len(data)


def test_inspect_shows_the_pushed_image(
    shared_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout, built_image: BuiltImage
) -> None:
    remote = f"docker://{shared_hub.host}/skopeo/inspect:v1"
    skopeo.copy(oci_layout.reference, remote)

    info = skopeo.inspect_json(remote)
    assert info["Digest"] == built_image.manifest_digest
    assert info["Architecture"] == "amd64"
    assert info["Os"] == "linux"
    assert info["Layers"] == [layer.digest for layer in built_image.layers]
    assert "v1" in info["RepoTags"]
    assert skopeo.inspect(remote, raw=True).stdout.encode() == built_image.manifest
    assert json.loads(skopeo.inspect(remote, config=True).stdout) == json.loads(
        built_image.config)


def test_list_tags_in_lexical_order(
    shared_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout
) -> None:
    repository = f"docker://{shared_hub.host}/skopeo/tags"
    for tag in ("v2", "latest", "v1", "1.0"):
        skopeo.copy(oci_layout.reference, f"{repository}:{tag}")

    assert skopeo.list_tags(repository) == ["1.0", "latest", "v1", "v2"]


def test_delete_removes_the_manifest(
    shared_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout, built_image: BuiltImage
) -> None:
    repository = f"docker://{shared_hub.host}/skopeo/delete"
    skopeo.copy(oci_layout.reference, f"{repository}:doomed")
    assert skopeo.list_tags(repository) == ["doomed"]

    skopeo.delete(f"{repository}:doomed")

    assert skopeo.list_tags(repository) == []
    gone = skopeo.inspect(f"{repository}:doomed", check=False)
    assert gone.returncode != 0
    by_digest = http_request(
        "GET", f"{shared_hub.url}/v2/skopeo/delete/manifests/{built_image.manifest_digest}",
        headers={"Accept": mediatypes.OCI_MANIFEST})
    assert by_digest.status == 404
    assert by_digest.error_codes() == ["MANIFEST_UNKNOWN"]
    with pytest.raises(CommandError):
        skopeo.delete(f"{repository}:doomed")


def test_multiarch_index_keeps_its_digest(
    shared_hub: HubProcess, skopeo: Skopeo, multiarch_layout: OciLayout, tmp_path: Path
) -> None:
    remote = f"docker://{shared_hub.host}/skopeo/multiarch:multi"
    skopeo.copy(multiarch_layout.reference, remote, "--all", "--preserve-digests")

    raw = skopeo.inspect(remote, raw=True).stdout.encode()
    assert sha256_digest(raw) == multiarch_layout.root_digest
    assert json.loads(raw)["mediaType"] == mediatypes.OCI_INDEX
    arm64 = json.loads(skopeo.run("--override-arch", "arm64", "inspect", "--tls-verify=false",
                                  "--no-creds", remote).stdout)
    assert arm64["Architecture"] == "arm64"

    skopeo.copy(remote, f"oci:{tmp_path / 'out'}:multi", "--all", "--preserve-digests")
    root, blobs = read_layout(tmp_path / "out", "multi")
    assert root == multiarch_layout.root_digest
    assert blobs == multiarch_layout.blobs


def test_docker_schema2_conversion_round_trip(
    shared_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout, built_image: BuiltImage,
    tmp_path: Path,
) -> None:
    remote = f"docker://{shared_hub.host}/skopeo/schema2:v1"
    skopeo.copy(oci_layout.reference, remote, "--format", "v2s2")

    manifest = json.loads(skopeo.inspect(remote, raw=True).stdout)
    assert manifest["mediaType"] == mediatypes.DOCKER_MANIFEST
    assert [layer["digest"] for layer in manifest["layers"]] == [
        layer.digest for layer in built_image.layers]

    skopeo.copy(remote, f"oci:{tmp_path / 'out'}:v1")
    _, blobs = read_layout(tmp_path / "out", "v1")
    for layer in built_image.layers:
        assert blobs[layer.digest] == layer.gzipped


def test_copy_between_repositories_of_one_hub(
    shared_hub: HubProcess, skopeo: Skopeo, oci_layout: OciLayout, built_image: BuiltImage
) -> None:
    source = f"docker://{shared_hub.host}/skopeo/mount-source:v1"
    target = f"docker://{shared_hub.host}/skopeo/mount-target:v1"
    skopeo.copy(oci_layout.reference, source)

    skopeo.copy(source, target, "--preserve-digests")

    assert skopeo.inspect_json(target)["Digest"] == built_image.manifest_digest
    for digest, data in built_image.blobs().items():
        blob = http_request("GET", f"{shared_hub.url}/v2/skopeo/mount-target/blobs/{digest}")
        assert (blob.status, blob.body) == (200, data), digest


def test_copy_over_verified_https(
    hub_factory: HubSet, tls_files: DevCertificates, skopeo: Skopeo, oci_layout: OciLayout,
    built_image: BuiltImage, tmp_path: Path,
) -> None:
    hub = hub_factory.start(tls=tls_files)
    context = ssl.create_default_context(cafile=str(tls_files.ca_cert))
    with urllib.request.urlopen(f"{hub.url}/v2/", context=context) as response:
        assert (hub.url.split(":")[0], response.status) == ("https", 200)
    # skopeo trusts the *.crt files of a certificate directory as CAs.
    cert_dir = tmp_path / "certs"
    cert_dir.mkdir()
    shutil.copy(tls_files.ca_cert, cert_dir / "ca.crt")
    remote = f"docker://{hub.host}/tls/busybox:v1"

    skopeo.copy(oci_layout.reference, remote, "--dest-tls-verify=true",
                "--dest-cert-dir", str(cert_dir))

    inspected = skopeo.run("inspect", "--tls-verify=true", "--cert-dir", str(cert_dir),
                           "--no-creds", remote)
    assert json.loads(inspected.stdout)["Digest"] == built_image.manifest_digest
