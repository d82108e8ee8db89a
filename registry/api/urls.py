"""URL paths of the API, built in one place (Location headers, tests, clients)."""

from __future__ import annotations

__all__ = ["blob", "manifest", "tags", "upload"]


def blob(name: str, digest: str) -> str:
    return f"/v2/{name}/blobs/{digest}"


def upload(name: str, upload_id: str) -> str:
    return f"/v2/{name}/blobs/uploads/{upload_id}"


def manifest(name: str, reference: str) -> str:
    return f"/v2/{name}/manifests/{reference}"


def tags(name: str) -> str:
    return f"/v2/{name}/tags/list"
