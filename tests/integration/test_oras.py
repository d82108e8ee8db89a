"""The oras Python client against a hub process: artifacts, chunked uploads and referrers.

A second, independent client (oras-py over `requests`) for the push and content-discovery
workflows: artifact manifests with a custom config type, chunked blob uploads, `subject`
links and the referrers API with `artifactType` filtering.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import oras.oci
import oras.provider
import pytest

from registry.oci import mediatypes
from tests.support.http import http_request
from tests.support.hub import HubProcess
from tests.support.images import BuiltImage, pseudo_random
from tests.support.upload import push_image

SBOM_TYPE = "application/vnd.example.sbom.v1"
SIGNATURE_TYPE = "application/vnd.example.signature.v1"
MIB = 1024 * 1024


@pytest.fixture
def oras_client(shared_hub: HubProcess) -> oras.provider.Registry:
    """An anonymous oras client talking plain http to the shared hub."""
    return oras.provider.Registry(hostname=shared_hub.host, insecure=True)


@pytest.fixture
def in_tmp_path(tmp_path: Path) -> Iterator[Path]:
    """Run in `tmp_path`: oras-py takes file names relative to the working directory."""
    previous = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(previous)


def test_artifact_round_trip_with_chunked_upload(
    shared_hub: HubProcess, oras_client: oras.provider.Registry, in_tmp_path: Path
) -> None:
    (in_tmp_path / "report.json").write_bytes(b'{"packages": []}\n')
    (in_tmp_path / "big.bin").write_bytes(pseudo_random(3 * MIB + 5, b"oras chunked"))
    (in_tmp_path / "config.json").write_bytes(b"{}")
    target = f"{shared_hub.host}/oras/artifact:v1"

    pushed = oras_client.push(
        target, files=["report.json:application/json", "big.bin:application/octet-stream"],
        manifest_config=f"config.json:{SBOM_TYPE}", do_chunked=True, chunk_size=MIB)
    assert pushed.status_code == 201

    manifest = oras_client.get_manifest(target)
    assert manifest["config"]["mediaType"] == SBOM_TYPE
    pulled = oras_client.pull(target=target, outdir=str(in_tmp_path / "out"))
    assert sorted(Path(path).name for path in pulled) == ["big.bin", "report.json"]
    for name in ("report.json", "big.bin"):
        assert (in_tmp_path / "out" / name).read_bytes() == (in_tmp_path / name).read_bytes()
    assert "v1" in oras_client.get_tags(target)


def test_referrers_list_and_filter_by_artifact_type(
    shared_hub: HubProcess, oras_client: oras.provider.Registry, in_tmp_path: Path,
    built_image: BuiltImage,
) -> None:
    repository = "oras/referred"
    subject_digest = push_image(shared_hub.url, repository, "v1", built_image)
    subject = oras.oci.Subject(mediatypes.OCI_MANIFEST, subject_digest,
                               len(built_image.manifest))
    (in_tmp_path / "sbom.json").write_bytes(b'{"sbom": true}\n')
    (in_tmp_path / "signature.bin").write_bytes(b"not really a signature")
    (in_tmp_path / "config.json").write_bytes(b"{}")
    for tag, file, artifact_type in (("sbom", "sbom.json", SBOM_TYPE),
                                     ("sig", "signature.bin", SIGNATURE_TYPE)):
        response = oras_client.push(
            f"{shared_hub.host}/{repository}:{tag}", files=[f"{file}:application/octet-stream"],
            manifest_config=f"config.json:{artifact_type}", subject=subject)
        assert response.status_code == 201
        assert response.headers.get("OCI-Subject") == subject_digest

    url = f"{shared_hub.url}/v2/{repository}/referrers/{subject_digest}"
    listed = http_request("GET", url)
    assert listed.status == 200
    assert listed.headers["Content-Type"] == mediatypes.OCI_INDEX
    # With no artifactType field, a referrer's type is its config's media type (image-spec).
    assert sorted(entry["artifactType"] for entry in listed.json()["manifests"]) == [
        SBOM_TYPE, SIGNATURE_TYPE]

    filtered = http_request("GET", f"{url}?artifactType={SIGNATURE_TYPE}")
    assert filtered.status == 200
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [entry["artifactType"] for entry in filtered.json()["manifests"]] == [SIGNATURE_TYPE]
