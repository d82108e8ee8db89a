"""The local content store: a content-addressed store of blobs under `<root>/content/`.

Scope: bytes keyed by digest, ingest with resume, commit with verification, delete, walk. It
knows nothing of images, tags or registries (that is `runtime_client.images.store`), and it
never decides what is garbage (the image store does, under its database lock).

Layout::

    <root>/content/
      blobs/sha256/<hex>          committed, verified blobs (read-only once there)
      ingest/<key>/data           bytes received so far for one ingest ref
      ingest/<key>/ref            the ref string, for humans and `abort_stale`
      ingest/<key>/lock           flock(2) target: one writer per ref across processes

API (what pull, load, import, commit and the container half use)::

    store = ContentStore(root)
    with store.writer("layer-sha256:ab...") as w:   # resumes: w.offset bytes already there
        w.write(chunk) ...
        digest = w.commit(expected_digest, size)    # verifies, then atomically publishes
    store.put(data, expected=None) -> Digest        # small blobs (config, manifest)
    store.exists(d) / store.size(d) / store.path(d) / store.open(d) / store.read(d)
    store.delete(d) / store.walk() -> Iterator[(Digest, size)]

Commit is `fsync` then `os.replace` into `blobs/`, so a blob is either wholly present and
verified or absent; a crash or SIGINT mid-write leaves only an ingest that the next writer for
the same ref resumes from (re-hashing the bytes already on disk).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from registry.oci.digest import ALGORITHMS, Digest, Digester
from runtime_client.errors import ContentError, DigestMismatchError

__all__ = ["ContentStore", "ContentWriter"]

logger = logging.getLogger(__name__)

_REHASH_CHUNK = 1 << 20  # 1 MiB


class ContentWriter:
    """An open ingest: append bytes, then commit them under their verified digest.

    Created by `ContentStore.writer`; holds an exclusive flock on the ingest until closed.
    Its methods may run in different threads: a download hands each write to a worker thread,
    and a cancelled download closes the writer while that write may still be running. Each
    method therefore waits for the one in progress, so `close` sees every byte written (it
    once saw the file written but not yet counted, took the ingest for empty and removed it).
    """

    def __init__(self, store: ContentStore, ref: str, directory: Path, lock_fd: int) -> None:
        self._store = store
        self.ref = ref
        self._dir = directory
        self._lock_fd = lock_fd
        # One method at a time (see the class docstring); commit closes, hence re-entrant.
        self._busy = threading.RLock()
        (directory / "ref").write_text(ref)
        self._digester = Digester()
        data_path = directory / "data"
        self._file: BinaryIO = open(data_path, "a+b")  # noqa: SIM115 - closed in close()
        self._file.seek(0)
        while chunk := self._file.read(_REHASH_CHUNK):
            self._digester.update(chunk)
        self._file.seek(0, os.SEEK_END)
        self._closed = False

    @property
    def offset(self) -> int:
        """How many bytes this ingest already holds (where a resumed download starts)."""
        return self._digester.size

    def write(self, chunk: bytes | bytearray) -> None:
        """Append `chunk` to the ingest.

        Raises:
            ContentError: the writer was closed (its download was cancelled meanwhile).
        """
        with self._busy:
            if self._closed:
                raise ContentError(f"ingest {self.ref} is closed")
            self._file.write(chunk)
            self._digester.update(chunk)  # type: ignore[arg-type]  # hashlib takes any buffer

    def digest(self) -> Digest:
        """The digest of the bytes written so far."""
        return self._digester.digest()

    def reader(self) -> BinaryIO:
        """A separate read handle on the bytes written so far (e.g. to validate them)."""
        self._file.flush()
        return open(self._dir / "data", "rb")

    def truncate(self) -> None:
        """Throw away the bytes written so far (e.g. the server ignored a Range request)."""
        with self._busy:
            self._file.seek(0)
            self._file.truncate()
            self._digester = Digester()

    def commit(self, expected: Digest | None = None, size: int | None = None) -> Digest:
        """Verify the ingest and publish it as a blob; the ingest is removed either way on a
        mismatch, so bad bytes are never kept.

        Args:
            expected: the digest the content must have (None: accept whatever it hashes to).
            size: the exact size the content must have (None: any).

        Returns:
            The blob's digest.

        Raises:
            DigestMismatchError: size or digest differ from what was expected.
        """
        with self._busy:
            return self._commit(expected, size)

    def _commit(self, expected: Digest | None, size: int | None) -> Digest:
        actual = self._digester.digest()
        actual_size = self._digester.size
        algorithm = expected.algorithm if expected is not None else "sha256"
        if algorithm != "sha256":
            actual = self._rehash(algorithm)
        if (size is not None and actual_size != size) or (
            expected is not None and actual != expected
        ):
            self._discard()
            raise DigestMismatchError(
                str(expected) if expected else "?",
                str(actual),
                f"size {actual_size}, expected {size}" if size is not None else "",
            )
        self._file.flush()
        os.fsync(self._file.fileno())
        target = self._store.path(actual)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._dir / "data", target)
        self._discard()
        logger.debug("committed %s (%d bytes) from ingest %s", actual, actual_size, self.ref)
        return actual

    def _rehash(self, algorithm: str) -> Digest:
        self._file.flush()
        digester = Digester(algorithm)
        with open(self._dir / "data", "rb") as f:
            while chunk := f.read(_REHASH_CHUNK):
                digester.update(chunk)
        return digester.digest()

    def _discard(self) -> None:
        # Remove the ingest while still holding its lock: a writer waiting on the lock then
        # finds its lock file unlinked and starts over (see ContentStore.writer).
        shutil.rmtree(self._dir, ignore_errors=True)
        self.close()

    def close(self) -> None:
        """Release the ingest, keeping its bytes for a later resume (an empty one goes)."""
        with self._busy:  # a write still running in a worker thread finishes first
            if self._closed:
                return
            self._closed = True
            self._file.close()
            if self._digester.size == 0:
                # Nothing to resume: remove it under the lock, as _discard does.
                shutil.rmtree(self._dir, ignore_errors=True)
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)

    def __enter__(self) -> ContentWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ContentStore:
    """Blobs keyed by digest under `<root>/content`.

    Args:
        root: the berth root directory (the store lives in its `content/` subdirectory).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "content"
        self._blobs = self.root / "blobs"
        self._ingest = self.root / "ingest"
        self._blobs.mkdir(parents=True, exist_ok=True)
        self._ingest.mkdir(parents=True, exist_ok=True)

    def path(self, digest: Digest) -> Path:
        """Where a committed blob lives (whether or not it exists)."""
        return self._blobs / digest.algorithm / digest.hex

    def exists(self, digest: Digest) -> bool:
        """True when the blob is committed."""
        return self.path(digest).is_file()

    def size(self, digest: Digest) -> int:
        """The committed blob's size in bytes.

        Raises:
            ContentError: the blob is not in the store.
        """
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError as exc:
            raise ContentError(f"content {digest} not found") from exc

    def open(self, digest: Digest) -> BinaryIO:
        """Open a committed blob for reading (binary, seekable).

        Raises:
            ContentError: the blob is not in the store.
        """
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError as exc:
            raise ContentError(f"content {digest} not found") from exc

    def read(self, digest: Digest) -> bytes:
        """A committed blob's bytes (for small blobs: configs, manifests)."""
        with self.open(digest) as f:
            return f.read()

    def writer(self, ref: str) -> ContentWriter:
        """Open (or resume) the ingest named `ref`; blocks while another process holds it.

        Callers should check `exists(expected)` after this returns: the other process may
        have committed the same content meanwhile.
        """
        key = hashlib.sha256(ref.encode()).hexdigest()[:32]
        directory = self._ingest / key
        while True:
            directory.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(directory / "lock", os.O_CREAT | os.O_RDWR, 0o600)
            except FileNotFoundError:
                continue  # the holder committed and removed the ingest meanwhile
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                current = os.stat(directory / "lock").st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(fd).st_ino:
                return ContentWriter(self, ref, directory, fd)
            os.close(fd)  # we waited on a lock file that is gone: retry with a fresh one

    def put(self, data: bytes, expected: Digest | None = None) -> Digest:
        """Store a small blob in one call (verified against `expected` when given).

        Raises:
            DigestMismatchError: `data` does not hash to `expected`.
        """
        digest = expected or Digest.of(data)
        if expected is not None and not expected.verify(data):
            raise DigestMismatchError(str(expected), str(Digest.of(data, expected.algorithm)))
        if self.exists(digest):
            return digest
        with self.writer(f"put-{digest}") as w:
            w.truncate()
            w.write(data)
            return w.commit(digest, len(data))

    def delete(self, digest: Digest) -> bool:
        """Remove a blob; returns False when it was not there."""
        try:
            self.path(digest).unlink()
        except FileNotFoundError:
            return False
        return True

    def walk(self) -> Iterator[tuple[Digest, int]]:
        """Every committed blob with its size."""
        for algorithm in ALGORITHMS:
            directory = self._blobs / algorithm
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                with contextlib.suppress(FileNotFoundError):
                    yield Digest(algorithm, entry.name), entry.stat().st_size

    def abort(self, ref: str) -> None:
        """Drop the ingest named `ref` and its bytes."""
        key = hashlib.sha256(ref.encode()).hexdigest()[:32]
        shutil.rmtree(self._ingest / key, ignore_errors=True)
