"""Apply OCI layer tars (plain or gzip) to an empty snapshot directory, safely.

Scope: one layer tar -> the files of one overlay layer. OCI whiteouts become overlayfs ones
(`.wh.NAME` -> a 0:0 character device `NAME`, `.wh..wh..opq` -> `trusted.overlay.opaque=y` on the
directory), so the snapshot can be used directly as an overlay lowerdir. Ownership, modes,
modification times, xattrs (PAX `SCHILY.xattr.*`), hard links and device nodes are kept.

Safety rules (the layer is refused with `UnsafeLayerError` and its directory removed):
- an entry name with a `..` component;
- an entry whose parent path goes through a symlink (nothing is ever created through a link,
  so an absolute symlink such as `evil -> /etc` cannot redirect a later entry to the host);
- a relative symlink whose target climbs above the root (`../../etc`), or a hard link whose
  target is outside the layer.
Every file system call is made relative to a directory descriptor opened with O_NOFOLLOW, so a
path is never resolved through a symlink on the host.

`unpack_layers` stacks a whole image: each layer is unpacked once into a committed snapshot
named by its chain ID (OCI image-spec config.md "Layer ChainID"), verifying its diff ID.

Not in scope: zstd layers, and applying a layer onto a populated tree (each layer is unpacked
alone; overlayfs stacks them).
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import logging
import os
import stat
import tarfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from runtime_client.container_errors import BadLayerError, UnsafeLayerError
from runtime_client.snapshots.base import Snapshotter
from runtime_client.xattrs import XATTR_PAX_PREFIX

logger = logging.getLogger(__name__)

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
OVERLAY_OPAQUE_XATTR = "trusted.overlay.opaque"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_COPY_CHUNK = 1 << 20


def entry_parts(name: str) -> list[str]:
    """Split a tar entry name into path components, refusing any that could escape the root.

    Raises:
        UnsafeLayerError: the name has a `..` component or is empty.
    """
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise UnsafeLayerError(f"layer entry {name!r} escapes the root")
    return parts


def symlink_escapes(link_parts: list[str], target: str) -> bool:
    """True when a relative symlink at `link_parts` points above the root.

    Absolute targets are interpreted inside the container's root (as the kernel does once the
    container runs), so they cannot climb above it; `unpack` never follows them itself.
    """
    if target.startswith("/"):
        return False
    depth = len(link_parts) - 1
    for part in target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


class _Tree:
    """Directory-descriptor based access to a root that never follows symlinks."""

    def __init__(self, root: Path) -> None:
        self.root_fd = os.open(root, _DIR_FLAGS)

    def close(self) -> None:
        os.close(self.root_fd)

    @contextlib.contextmanager
    def parent(self, parts: list[str], create: bool = True) -> Iterator[int]:
        """Yield an fd of the directory holding `parts[-1]`, creating missing directories."""
        fd = os.dup(self.root_fd)
        try:
            for part in parts[:-1]:
                try:
                    nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(part, 0o755, dir_fd=fd)
                    nfd = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except OSError as exc:
                    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise UnsafeLayerError(
                            f"layer entry {'/'.join(parts)!r} goes through a symlink or file"
                        ) from exc
                    raise
                os.close(fd)
                fd = nfd
            yield fd
        finally:
            os.close(fd)


def _remove_at(dir_fd: int, name: str) -> None:
    """Remove `name` (recursively for directories) without following symlinks."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        sub = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        try:
            for child in os.listdir(sub):
                _remove_at(sub, child)
        finally:
            os.close(sub)
        os.rmdir(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def _set_metadata(dir_fd: int, name: str, member: tarfile.TarInfo) -> None:
    os.chown(name, member.uid, member.gid, dir_fd=dir_fd, follow_symlinks=False)
    if not member.issym():
        os.chmod(name, member.mode & 0o7777, dir_fd=dir_fd)
    for key, value in member.pax_headers.items():
        if key.startswith(XATTR_PAX_PREFIX):
            raw = value.encode("utf-8", "surrogateescape")
            path = f"/proc/self/fd/{dir_fd}/{name}"
            with contextlib.suppress(OSError):
                os.setxattr(path, key[len(XATTR_PAX_PREFIX):], raw, follow_symlinks=False)


def _write_file(dir_fd: int, name: str, member: tarfile.TarInfo, tar: tarfile.TarFile) -> None:
    src = tar.extractfile(member)
    if src is None:
        raise BadLayerError(f"layer entry {member.name!r} has no data")
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as dst:
        while chunk := src.read(_COPY_CHUNK):
            dst.write(chunk)


def _apply_member(tree: _Tree, member: tarfile.TarInfo, tar: tarfile.TarFile,
                  dir_times: list[tuple[list[str], float]]) -> None:
    parts = entry_parts(member.name)
    if not parts:
        return  # the root itself ("./"); its metadata belongs to the container
    base = parts[-1]
    with tree.parent(parts) as dir_fd:
        if base == OPAQUE_MARKER:
            os.setxattr(f"/proc/self/fd/{dir_fd}", OVERLAY_OPAQUE_XATTR, b"y")
            return
        if base.startswith(WHITEOUT_PREFIX):
            hidden = base[len(WHITEOUT_PREFIX):]
            entry_parts(hidden)
            _remove_at(dir_fd, hidden)
            os.mknod(hidden, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=dir_fd)
            return
        existing = None
        with contextlib.suppress(FileNotFoundError):
            existing = os.stat(base, dir_fd=dir_fd, follow_symlinks=False)
        if existing is not None and not (member.isdir() and stat.S_ISDIR(existing.st_mode)):
            _remove_at(dir_fd, base)
        if member.isdir():
            if existing is None or not stat.S_ISDIR(existing.st_mode):
                os.mkdir(base, 0o700, dir_fd=dir_fd)
            dir_times.append((parts, member.mtime))
        elif member.isreg():
            _write_file(dir_fd, base, member, tar)
        elif member.issym():
            if symlink_escapes(parts, member.linkname):
                raise UnsafeLayerError(
                    f"symlink {member.name!r} -> {member.linkname!r} points outside the root")
            os.symlink(member.linkname, base, dir_fd=dir_fd)
        elif member.islnk():
            target = entry_parts(member.linkname)
            if not target:
                raise UnsafeLayerError(f"hard link {member.name!r} has no target")
            with tree.parent(target, create=False) as target_fd:
                os.link(target[-1], base, src_dir_fd=target_fd, dst_dir_fd=dir_fd,
                        follow_symlinks=False)
            return  # a hard link shares the target's inode and metadata
        elif member.ischr() or member.isblk() or member.isfifo():
            kind = (stat.S_IFCHR if member.ischr() else
                    stat.S_IFBLK if member.isblk() else stat.S_IFIFO)
            os.mknod(base, kind | 0o600, os.makedev(member.devmajor, member.devminor),
                     dir_fd=dir_fd)
        else:
            logger.debug("skipping layer entry %s of type %r", member.name, member.type)
            return
        _set_metadata(dir_fd, base, member)
        if not member.isdir():
            os.utime(base, (member.mtime, member.mtime), dir_fd=dir_fd, follow_symlinks=False)


def apply_layer(stream: BinaryIO, target: Path) -> None:
    """Unpack one layer tar from `stream` into the empty directory `target`.

    Args:
        stream: the layer blob, plain tar or gzip/bzip2/xz-compressed.
        target: an existing, empty directory that becomes the layer's overlay files.

    Raises:
        UnsafeLayerError: an entry or link would escape `target`.
        BadLayerError: the stream is not a readable tar.
    """
    tree = _Tree(target)
    dir_times: list[tuple[list[str], float]] = []
    try:
        with tarfile.open(fileobj=stream, mode="r|*") as tar:
            for member in tar:
                _apply_member(tree, member, tar, dir_times)
        # Directory mtimes last: creating entries inside them would change them again.
        for parts, mtime in reversed(dir_times):
            with tree.parent(parts, create=False) as dir_fd:
                os.utime(parts[-1], (mtime, mtime), dir_fd=dir_fd, follow_symlinks=False)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BadLayerError(f"cannot apply layer: {exc}") from exc
    finally:
        tree.close()


class _HashingReader:
    """A read-only stream that hashes what passes through it (the layer's diff ID)."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.hash.update(data)
        return data

    def drain(self) -> str:
        while self.read(_COPY_CHUNK):
            pass
        return "sha256:" + self.hash.hexdigest()


def _uncompressed(stream: BinaryIO) -> BinaryIO:
    head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """Chain IDs of a layer stack: ChainID(n) = sha256(ChainID(n-1) + " " + DiffID(n))."""
    chain: list[str] = []
    for diff_id in diff_ids:
        if not chain:
            chain.append(diff_id)
        else:
            text = f"{chain[-1]} {diff_id}".encode()
            chain.append("sha256:" + hashlib.sha256(text).hexdigest())
    return chain


@dataclass(frozen=True)
class LayerSource:
    """One layer of an image: its diff ID and a way to open its (possibly compressed) blob."""

    diff_id: str
    open: Callable[[], BinaryIO]


def unpack_layers(snapshotter: Snapshotter, layers: Sequence[LayerSource]) -> str | None:
    """Make sure every layer is a committed snapshot; return the top chain ID.

    Layers already unpacked (same chain ID) are skipped, so each layer is unpacked once.

    Raises:
        UnsafeLayerError: a layer would escape its snapshot; nothing is kept of it.
        BadLayerError: a blob is unreadable or does not match its diff ID.
    """
    ids = chain_ids([layer.diff_id for layer in layers])
    parent: str | None = None
    for layer, chain_id in zip(layers, ids, strict=True):
        if not snapshotter.exists(chain_id):
            key = f"extract-{os.getpid()}-{chain_id.split(':')[-1][:16]}"
            snapshotter.prepare(key, parent)
            try:
                with layer.open() as raw:
                    reader = _HashingReader(_uncompressed(raw))
                    apply_layer(reader, snapshotter.upper_dir(key))  # type: ignore[arg-type]
                    actual = reader.drain()
                if actual != layer.diff_id:
                    raise BadLayerError(
                        f"layer diff ID mismatch: expected {layer.diff_id}, got {actual}")
                snapshotter.commit(chain_id, key)
            except BaseException:
                snapshotter.remove(key)
                raise
            logger.info("unpacked layer %s as %s", layer.diff_id, chain_id)
        parent = chain_id
    return parent
