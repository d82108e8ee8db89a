"""Build a driver from a storage URL: `file:///path` (or a bare path), `inmemory://`.

The S3 driver (`s3://bucket/prefix`) registers here too.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from registry.storage.driver.base import StorageDriver
from registry.storage.driver.filesystem import FilesystemDriver
from registry.storage.driver.inmemory import InMemoryDriver

__all__ = ["UnknownStorageError", "create_driver"]


class UnknownStorageError(ValueError):
    """The storage URL names no known driver."""


def create_driver(url: str) -> StorageDriver:
    """Create the driver a storage URL names.

    Raises:
        UnknownStorageError: for an unsupported scheme.
    """
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return FilesystemDriver(Path(parsed.path if parsed.scheme else url))
    if parsed.scheme == "inmemory":
        return InMemoryDriver()
    raise UnknownStorageError(f"unsupported storage URL {url!r} (use file:///path)")
