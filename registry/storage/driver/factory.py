"""Build a driver from a storage URL: `file:///path` (or a bare path), `inmemory://`,
`s3://bucket/prefix` (with `S3Config` for region, endpoint, redirects).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from registry.storage.driver.base import StorageDriver
from registry.storage.driver.filesystem import FilesystemDriver
from registry.storage.driver.inmemory import InMemoryDriver
from registry.storage.driver.s3 import S3Config, S3Driver

__all__ = ["UnknownStorageError", "create_driver"]


class UnknownStorageError(ValueError):
    """The storage URL names no known driver."""


def create_driver(url: str, s3: S3Config | None = None) -> StorageDriver:
    """Create the driver a storage URL names.

    Args:
        url: `file:///path`, a bare path, `inmemory://` or `s3://bucket/prefix`.
        s3: options for an `s3://` URL.

    Raises:
        UnknownStorageError: for an unsupported scheme.
    """
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return FilesystemDriver(Path(parsed.path if parsed.scheme else url))
    if parsed.scheme == "inmemory":
        return InMemoryDriver()
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise UnknownStorageError(f"storage URL {url!r} names no bucket (s3://bucket/prefix)")
        return S3Driver(parsed.netloc, parsed.path.strip("/"), s3)
    raise UnknownStorageError(
        f"unsupported storage URL {url!r} (use file:///path or s3://bucket/prefix)"
    )
