"""`berth export [-o FILE] CONTAINER`: the container's merged root file system as a tar."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import BinaryIO

from runtime_client.ops.context import Context
from runtime_client.runtime import lifecycle
from runtime_client.xattrs import pax_records


def write_tree(root: Path, out: BinaryIO) -> None:
    """A tar of everything under `root` (paths relative, links kept, extended attributes as
    PAX records, sockets skipped)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(dirs + files):
                path = Path(dirpath) / name
                arcname = str(path.relative_to(root))
                info = tar.gettarinfo(str(path), arcname)
                if info is None:
                    continue
                info.uname = info.gname = ""
                info.pax_headers = pax_records(path)
                if info.isreg():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)


def export(ctx: Context, ref: str, out: BinaryIO) -> None:
    """Write the container's root file system as a tar to `out`.

    Raises:
        NoSuchContainerError.
    """
    container = ctx.containers.find(ref)
    with lifecycle.mounted_rootfs(ctx, container) as rootfs:
        write_tree(rootfs, out)
