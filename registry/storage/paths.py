"""Where things live inside a storage driver, as pure functions.

Layout (relative to the driver's root)::

    blobs/
      sha256/
        ab/
          abcdef.../data          committed, content-addressed blob bytes (immutable)
    uploads/
      <uuid>/
        data                      bytes received so far (appended chunk by chunk)
        info.json                 {"repository": ..., "started_at": ...}
    trash/
      sha256/
        abcdef...                 a blob online GC is removing (restored if a push revives it)

A blob becomes visible only by an atomic move from `uploads/<uuid>/data` (or a direct write
for small monolithic pushes) to its content-addressed path; the database then links it to a
repository. Manifests are kept in the database, not here.
"""

from __future__ import annotations

from registry.oci.digest import Digest

__all__ = [
    "blob_path",
    "trash_path",
    "upload_data_path",
    "upload_dir",
    "upload_info_path",
]

BLOBS_ROOT = "blobs"
UPLOADS_ROOT = "uploads"
TRASH_ROOT = "trash"


def blob_path(digest: Digest) -> str:
    """The committed blob's data file."""
    return f"{BLOBS_ROOT}/{digest.algorithm}/{digest.hex[:2]}/{digest.hex}/data"


def upload_dir(upload_id: str) -> str:
    return f"{UPLOADS_ROOT}/{upload_id}"


def upload_data_path(upload_id: str) -> str:
    return f"{UPLOADS_ROOT}/{upload_id}/data"


def upload_info_path(upload_id: str) -> str:
    return f"{UPLOADS_ROOT}/{upload_id}/info.json"


def trash_path(digest: Digest) -> str:
    """Where garbage collection parks a blob's bytes while it re-checks the database."""
    return f"{TRASH_ROOT}/{digest.algorithm}/{digest.hex}"
