"""An in-memory driver: the reference implementation for the contract suite and unit tests.

Not for serving: its state lives in one process.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from registry.storage.driver.base import (
    PATH_RE,
    FileInfo,
    InvalidOffsetError,
    InvalidPathError,
    PathNotFoundError,
)

__all__ = ["InMemoryDriver"]


class _MemoryWriter:
    def __init__(
        self,
        files: dict[str, bytearray],
        path: str,
        append: bool,
        move: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._files = files
        self._path = path
        self._move = move
        if not append or path not in files:
            files[path] = bytearray()
        self._size = len(files[path])  # this writer's view, as a file descriptor's

    @property
    def version(self) -> str:
        return ""  # concurrent appends both land, so `size` tells

    @property
    def size(self) -> int:
        return self._size

    async def write(self, chunk: bytes) -> None:
        self._files[self._path] += chunk
        self._size += len(chunk)

    async def commit(self) -> None:
        return None

    async def commit_to(self, dest: str) -> None:
        await self._move(self._path, dest)

    async def cancel(self) -> None:
        self._files.pop(self._path, None)

    async def close(self) -> None:
        return None


class InMemoryDriver:
    """Paths map to byte arrays; directories are implied by prefixes."""

    name = "inmemory"

    def __init__(self) -> None:
        self._files: dict[str, bytearray] = {}
        self._mtimes: dict[str, float] = {}

    def _check(self, path: str) -> str:
        if not PATH_RE.fullmatch(path) or ".." in path.split("/"):
            raise InvalidPathError(self.name, path)
        return path

    async def get_content(self, path: str) -> bytes:
        try:
            return bytes(self._files[self._check(path)])
        except KeyError as exc:
            raise PathNotFoundError(self.name, path) from exc

    async def put_content(self, path: str, data: bytes) -> None:
        self._files[self._check(path)] = bytearray(data)
        self._mtimes[path] = time.time()

    async def reader(self, path: str, offset: int = 0) -> AsyncIterator[bytes]:
        data = await self.get_content(path)
        if offset > len(data):
            raise InvalidOffsetError(self.name, path, f"offset {offset}")
        if offset < len(data):
            yield data[offset:]

    async def writer(
        self, path: str, append: bool = False, expected_size: int | None = None
    ) -> _MemoryWriter:
        self._mtimes[self._check(path)] = time.time()
        return _MemoryWriter(self._files, path, append, self.move)

    async def stat(self, path: str) -> FileInfo:
        self._check(path)
        if path in self._files:
            return FileInfo(path, len(self._files[path]), False, self._mtimes.get(path, 0.0))
        prefix = path + "/"
        if any(name.startswith(prefix) for name in self._files):
            return FileInfo(path, 0, True, 0.0)
        raise PathNotFoundError(self.name, path)

    async def list(self, path: str) -> list[str]:
        prefix = self._check(path) + "/"
        children = {
            prefix + name[len(prefix) :].split("/", 1)[0]
            for name in self._files
            if name.startswith(prefix)
        }
        if not children:
            raise PathNotFoundError(self.name, path)
        return sorted(children)

    async def move(self, source: str, dest: str) -> None:
        try:
            self._files[self._check(dest)] = self._files.pop(self._check(source))
        except KeyError as exc:
            raise PathNotFoundError(self.name, source) from exc
        self._mtimes[dest] = self._mtimes.pop(source, time.time())

    async def delete(self, path: str) -> None:
        prefix = self._check(path) + "/"
        doomed = [name for name in self._files if name == path or name.startswith(prefix)]
        if not doomed:
            raise PathNotFoundError(self.name, path)
        for name in doomed:
            del self._files[name]
            self._mtimes.pop(name, None)

    def local_path(self, path: str) -> Path | None:
        return None

    async def redirect_url(self, path: str, method: str = "GET") -> str | None:
        return None
