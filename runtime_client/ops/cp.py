"""`berth cp CONTAINER:SRC DEST` and `berth cp SRC CONTAINER:DEST`, running or stopped.

Container paths are resolved inside the container's root (symlinks cannot lead out of it);
the last component is copied as it is (a symlink stays a symlink, as Docker does without -L).
Files copied into a container belong to its root user. `-` as the host side streams a tar.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from runtime_client.container_errors import InvalidOptionError
from runtime_client.ops.context import Context
from runtime_client.rootfs import scoped_parent, scoped_path
from runtime_client.runtime import lifecycle


@dataclass(frozen=True)
class CpOptions:
    """Options of `cp`: exactly one side is `CONTAINER:PATH`."""

    source: str
    destination: str


def _split(arg: str) -> tuple[str | None, str]:
    if ":" in arg and not arg.startswith(("/", ".")):
        name, _, path = arg.partition(":")
        return name, path
    return None, arg


def _copy(src: Path, dst: Path, contents_only: bool) -> None:
    if src.is_dir() and not src.is_symlink():
        if dst.is_dir() and not contents_only:
            dst = dst / src.name
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        if dst.is_dir() and not dst.is_symlink():
            dst = dst / src.name
        shutil.copy2(src, dst, follow_symlinks=False)


def _chown_tree(path: Path, uid: int = 0, gid: int = 0) -> None:
    os.chown(path, uid, gid, follow_symlinks=False)
    if path.is_dir() and not path.is_symlink():
        for dirpath, dirs, files in os.walk(path):
            for name in dirs + files:
                os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


def cp(ctx: Context, opts: CpOptions, stdin: BinaryIO | None = None,
       stdout: BinaryIO | None = None) -> None:
    """Copy between the host and a container.

    Raises:
        NoSuchContainerError, InvalidOptionError: both or neither side is a container, or a
        path does not exist.
    """
    src_ctr, src_path = _split(opts.source)
    dst_ctr, dst_path = _split(opts.destination)
    if (src_ctr is None) == (dst_ctr is None):
        raise InvalidOptionError("copying between containers is not supported"
                                 if src_ctr else "must specify at least one container source")
    if src_ctr is not None:
        container = ctx.containers.find(src_ctr)
        with lifecycle.mounted_rootfs(ctx, container) as rootfs:
            src = scoped_parent(rootfs, src_path)
            if not os.path.lexists(src):
                raise InvalidOptionError(
                    f"Could not find the file {src_path} in container {src_ctr}")
            if dst_path == "-":
                if stdout is None:
                    raise InvalidOptionError("no output stream for '-'")
                with tarfile.open(fileobj=stdout, mode="w|") as tar:
                    tar.add(src, arcname=src.name or ".")
                return
            dst = Path(dst_path)
            if not dst.parent.exists():
                raise InvalidOptionError(f"no such directory: {dst.parent}")
            _copy(src, dst, src_path.endswith("/."))
        return
    assert dst_ctr is not None
    container = ctx.containers.find(dst_ctr)
    with lifecycle.mounted_rootfs(ctx, container) as rootfs:
        target = scoped_path(rootfs, dst_path)
        if src_path == "-":
            if stdin is None:
                raise InvalidOptionError("no input stream for '-'")
            if not target.is_dir():
                raise InvalidOptionError(f"destination {dst_path} must be a directory")
            with tarfile.open(fileobj=stdin, mode="r|*") as tar:
                tar.extractall(target, filter="data")
            return
        src = Path(src_path)
        if not os.path.lexists(src):
            raise InvalidOptionError(f"lstat {src_path}: no such file or directory")
        if not target.parent.is_dir():
            raise InvalidOptionError(f"Could not find the file {dst_path} in container "
                                     f"{dst_ctr}")
        final = target / src.name if target.is_dir() and not src_path.endswith("/.") else target
        _copy(src, target, src_path.endswith("/."))
        _chown_tree(final if final.exists() or final.is_symlink() else target)
