"""Tar entries for a directory tree, written the same way by `export` and `commit`.

Entries come in a stable order (depth first, names sorted), carry no owner names (numeric IDs
only, as Docker writes them) and keep extended attributes as PAX records. What the tree means
(overlay whiteouts, opaque directories) is the caller's business.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Iterator
from pathlib import Path

from runtime_client.xattrs import pax_records

__all__ = ["add_path", "walk_sorted"]


def walk_sorted(root: Path) -> Iterator[tuple[Path, str]]:
    """Every path below `root` (not `root` itself) with its name relative to `root`."""
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = Path(dirpath) / name
            yield path, str(path.relative_to(root))


def add_path(tar: tarfile.TarFile, path: Path, arcname: str) -> None:
    """Add one file, directory, link or device (a regular file with its content).

    Sockets, which a tar cannot hold, are skipped.
    """
    info = tar.gettarinfo(str(path), arcname)
    if info is None:
        return
    info.uname = info.gname = ""
    info.pax_headers = pax_records(path)
    if info.isreg():
        with open(path, "rb") as f:
            tar.addfile(info, f)
    else:
        tar.addfile(info)
