"""The storage-driver contract every backend implements, and its typed errors.

Paths are `/`-separated, relative, and match `PATH_RE`. Drivers know nothing about digests,
repositories or HTTP: they store bytes under paths. `FileWriter.commit()` is what makes appended
bytes durable; `commit_to(dest)` does the same but makes them appear at another path (so an
upload can land straight at its content-addressed path, without a separate `move`); a writer
that is closed without commit keeps what it wrote so far (that is what makes uploads
resumable), and `cancel()` removes it. Bytes of a closed but uncommitted writer
count in `stat` and resume with `writer(path, append=True)`, in any process sharing the storage;
readers (`reader`, `get_content`, `move`) may see them only after `commit()` (an object store
cannot serve an unfinished multipart upload).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "PATH_RE",
    "FileInfo",
    "FileWriter",
    "InvalidOffsetError",
    "InvalidPathError",
    "PathNotFoundError",
    "StorageDriver",
    "StorageDriverError",
]

PATH_RE = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")  # use fullmatch


class StorageDriverError(Exception):
    """Root of storage-driver failures; carries the driver's name."""

    def __init__(self, driver: str, path: str, message: str = "") -> None:
        super().__init__(f"{driver}: {path}: {message}" if message else f"{driver}: {path}")
        self.driver = driver
        self.path = path


class PathNotFoundError(StorageDriverError):
    """Nothing is stored at the path."""


class InvalidPathError(StorageDriverError):
    """The path is not a valid storage path (see `PATH_RE`)."""


class InvalidOffsetError(StorageDriverError):
    """A read started beyond the end of the content."""


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What `stat` reports."""

    path: str
    size: int
    is_dir: bool
    mtime: float


class FileWriter(Protocol):
    """An append-only writer; `size` counts bytes stored so far, including earlier sessions."""

    @property
    def size(self) -> int: ...

    @property
    def version(self) -> str:
        """A token that, with `size`, identifies the bytes stored so far.

        Whenever another writer stores bytes at the path (its `close` or `commit`), `size` or
        `version` changes, even when two writers raced on the same offset; so a process can
        tell whether data it derived from its own writes (a running digest) still holds.
        Drivers on which concurrent appends always change `size` return "".
        """

    async def write(self, chunk: bytes) -> None: ...

    async def commit(self) -> None:
        """Make every byte written durable and visible to readers."""

    async def commit_to(self, dest: str) -> None:
        """Make every byte written durable and visible at `dest`, replacing it atomically.

        The writer's own path (and any session kept for it) is gone afterwards, as after
        `StorageDriver.move`.
        """

    async def cancel(self) -> None:
        """Abandon the file and remove what was written."""

    async def close(self) -> None:
        """Release resources; bytes written so far stay (resumable)."""


class StorageDriver(Protocol):
    """The contract: about ten operations, each atomic from a reader's point of view."""

    name: str

    async def get_content(self, path: str) -> bytes: ...

    async def put_content(self, path: str, data: bytes) -> None:
        """Write a whole file atomically (readers see the old or the new content)."""

    def reader(self, path: str, offset: int = 0) -> AsyncIterator[bytes]:
        """Stream the content from `offset`."""

    async def writer(
        self, path: str, append: bool = False, expected_size: int | None = None
    ) -> FileWriter:
        """Open an append-only writer.

        Args:
            append: continue the file (or the closed, uncommitted session) at `path`.
            expected_size: the size the file is expected to reach, when known; a driver may
                hold that many bytes in memory so that the file is stored in one request.
                Only a hint: more or fewer bytes may still be written.
        """

    async def stat(self, path: str) -> FileInfo: ...

    async def list(self, path: str) -> list[str]:
        """Direct children of a directory-like path, as full paths."""

    async def move(self, source: str, dest: str) -> None:
        """Move a file, replacing `dest` atomically."""

    async def delete(self, path: str) -> None:
        """Delete a file or everything under a directory-like path."""

    def local_path(self, path: str) -> Path | None:
        """A local filesystem path for zero-copy serving, or None for remote drivers."""

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        """A URL the client may fetch the content from directly, or None."""
