"""A layer's size as dockerd reports it: what the layer takes once unpacked.

dockerd (overlay2) sizes a layer by walking its unpacked directory: every regular file's and
symlink's bytes, each inode once (a hard link adds nothing), directories and whiteouts nothing.
The same figure comes straight from the layer tar, without unpacking it. `docker images`,
`image inspect`'s `Size`, `history` and `system df` all show these sizes, not the compressed
bytes a registry sends.
"""

from __future__ import annotations

import tarfile
from typing import IO

__all__ = ["layer_diff_size"]


def layer_diff_size(stream: IO[bytes]) -> int:
    """The unpacked size of one layer tar (plain or compressed) read from `stream`."""
    total = 0
    with tarfile.open(fileobj=stream, mode="r|*") as tar:
        for member in tar:
            if member.isreg():
                total += member.size
            elif member.issym():
                total += len(member.linkname.encode("utf-8", "surrogateescape"))
    return total
