"""`berth export [-o FILE] CONTAINER`: the container's merged root file system as a tar."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import BinaryIO

from runtime_client.ops.context import Context
from runtime_client.runtime import lifecycle
from runtime_client.tree_tar import add_path, walk_sorted


def write_tree(root: Path, out: BinaryIO) -> None:
    """A tar of everything under `root` (paths relative, links kept, extended attributes as
    PAX records, sockets skipped)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for path, arcname in walk_sorted(root):
            add_path(tar, path, arcname)


def export(ctx: Context, ref: str, out: BinaryIO) -> None:
    """Write the container's root file system as a tar to `out`.

    Raises:
        NoSuchContainerError.
    """
    container = ctx.containers.find(ref)
    with lifecycle.mounted_rootfs(ctx, container) as rootfs:
        write_tree(rootfs, out)
