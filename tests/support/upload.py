"""Put test images and blobs into a hub over plain HTTP, as a minimal registry client does."""

from __future__ import annotations

import json

from tests.support.http import http_request, with_query
from tests.support.images import BuiltImage, sha256_digest

__all__ = ["UploadError", "push_blob", "push_image", "push_manifest", "push_variant"]


class UploadError(RuntimeError):
    """The hub refused an upload the helpers expected it to accept."""


def push_blob(base_url: str, repository: str, data: bytes) -> str:
    """Upload `data` with POST then one PUT carrying the body; return its digest.

    Raises:
        UploadError: the hub answered anything but 202 then 201.
    """
    digest = sha256_digest(data)
    started = http_request("POST", f"{base_url}/v2/{repository}/blobs/uploads/",
                           headers={"Content-Length": "0"})
    if started.status != 202:
        raise UploadError(f"POST upload: {started.status} {started.body!r}")
    done = http_request("PUT", with_query(base_url, started.headers["Location"], digest=digest),
                        body=data, headers={"Content-Type": "application/octet-stream"})
    if done.status != 201:
        raise UploadError(f"PUT upload: {done.status} {done.body!r}")
    return digest


def push_manifest(base_url: str, repository: str, reference: str, manifest: bytes,
                  media_type: str) -> str:
    """PUT a manifest under a tag or digest; return the digest the hub reports.

    Raises:
        UploadError: the hub answered anything but 201.
    """
    response = http_request("PUT", f"{base_url}/v2/{repository}/manifests/{reference}",
                            body=manifest, headers={"Content-Type": media_type})
    if response.status != 201:
        raise UploadError(f"PUT manifest {reference}: {response.status} {response.body!r}")
    return response.headers["Docker-Content-Digest"]


def push_image(base_url: str, repository: str, reference: str, image: BuiltImage) -> str:
    """Upload an image's blobs and its OCI manifest; return the manifest digest."""
    for data in image.blobs().values():
        push_blob(base_url, repository, data)
    return push_manifest(base_url, repository, reference, image.manifest,
                         "application/vnd.oci.image.manifest.v1+json")


def push_variant(base_url: str, repository: str, tag: str, image: BuiltImage) -> tuple[str, int]:
    """The image under a digest of its own (an annotation names the tag); (digest, size).

    Signatures name digests, so each signed or unsigned case needs its own manifest.
    """
    manifest = json.loads(image.manifest)
    manifest["annotations"] = {"org.opencontainers.image.ref.name": tag}
    payload = json.dumps(manifest).encode()
    for data in image.blobs().values():
        push_blob(base_url, repository, data)
    digest = push_manifest(base_url, repository, tag, payload,
                           "application/vnd.oci.image.manifest.v1+json")
    return digest, len(payload)
