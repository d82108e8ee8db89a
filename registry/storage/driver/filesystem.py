"""The filesystem driver: files under a root directory, atomic renames for visibility.

Small operations run inline on the event loop: on a local disk they finish in microseconds,
and a thread hop per chunk would cost more than the write itself. Large chunks of an upload are
written from a worker thread, so that the loop reads the next chunk meanwhile, and a commit
syncs the file (and, after the rename, its directory) before it returns: what a commit made
visible stays after a power loss.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from registry.storage.driver.base import (
    PATH_RE,
    FileInfo,
    InvalidOffsetError,
    InvalidPathError,
    PathNotFoundError,
)

logger = logging.getLogger(__name__)

__all__ = ["FilesystemDriver"]

READ_CHUNK = 1 << 20  # bytes
THREAD_WRITE_MIN = 256 * 1024  # bytes: a chunk at least this large is written off the loop


class _FileWriter:
    def __init__(self, path: Path, append: bool, resolve: Callable[[str], Path]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        self._path = path
        self._resolve = resolve  # storage path -> file, checked like every driver path
        # Blobs of private repositories: the hub's user only.
        self._fd: int | None = os.open(path, flags, 0o600)
        self._size = os.fstat(self._fd).st_size

    @property
    def version(self) -> str:
        return ""  # concurrent appends both land, so `size` tells

    @property
    def size(self) -> int:
        return self._size

    async def write(self, chunk: bytes) -> None:
        assert self._fd is not None, "write after close"
        if len(chunk) >= THREAD_WRITE_MIN:
            await asyncio.to_thread(_write_all, self._fd, chunk)
        else:
            _write_all(self._fd, chunk)
        self._size += len(chunk)

    async def commit(self) -> None:
        if self._fd is not None:
            await asyncio.to_thread(os.fsync, self._fd)
        await self.close()

    async def commit_to(self, dest: str) -> None:
        target = self._resolve(dest)
        await self.commit()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, target)
        await asyncio.to_thread(_sync_directory, target.parent)

    async def cancel(self) -> None:
        await self.close()
        self._path.unlink(missing_ok=True)

    async def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_directory(path: Path) -> None:
    """Make a rename into `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FilesystemDriver:
    """Stores each path as a file below `root`."""

    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _full(self, path: str) -> Path:
        if not PATH_RE.fullmatch(path) or ".." in path.split("/"):
            raise InvalidPathError(self.name, path)
        return self.root / path

    async def get_content(self, path: str) -> bytes:
        try:
            return self._full(path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise PathNotFoundError(self.name, path) from exc

    async def put_content(self, path: str, data: bytes) -> None:
        full = self._full(path)
        full.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=full.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, full)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    async def reader(self, path: str, offset: int = 0) -> AsyncIterator[bytes]:
        full = self._full(path)
        try:
            handle = full.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise PathNotFoundError(self.name, path) from exc
        with handle:
            if offset > os.fstat(handle.fileno()).st_size:
                raise InvalidOffsetError(self.name, path, f"offset {offset}")
            handle.seek(offset)
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    async def writer(
        self, path: str, append: bool = False, expected_size: int | None = None
    ) -> _FileWriter:
        return _FileWriter(self._full(path), append, self._full)

    async def stat(self, path: str) -> FileInfo:
        try:
            st = self._full(path).stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise PathNotFoundError(self.name, path) from exc
        is_dir = os.path.isdir(self._full(path))
        return FileInfo(path, 0 if is_dir else st.st_size, is_dir, st.st_mtime)

    async def list(self, path: str) -> list[str]:
        full = self._full(path)
        try:
            names = sorted(os.listdir(full))
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise PathNotFoundError(self.name, path) from exc
        return [f"{path}/{name}" for name in names if not name.startswith(".tmp-")]

    async def move(self, source: str, dest: str) -> None:
        src, dst = self._full(source), self._full(dest)
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(src, dst)
        except FileNotFoundError as exc:
            raise PathNotFoundError(self.name, source) from exc

    async def delete(self, path: str) -> None:
        full = self._full(path)
        if full.is_dir():
            shutil.rmtree(full)
        else:
            try:
                full.unlink()
            except FileNotFoundError as exc:
                raise PathNotFoundError(self.name, path) from exc

    def local_path(self, path: str) -> Path | None:
        return self._full(path)

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        return None
