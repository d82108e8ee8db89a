"""Reading layer blobs as tar streams, whatever their compression.

Scope: detection of gzip / zstd / plain tar from the first bytes and a decompressing reader.
Unpacking layers into a root filesystem belongs to the container half (`unpack.py`).
"""

from __future__ import annotations

import gzip
import logging
import tarfile
from typing import BinaryIO

from runtime_client.content.store import ContentStore
from runtime_client.errors import ContentError
from runtime_client.images.store import Layer

__all__ = ["compression_of", "decompressed", "open_layer_tar"]

logger = logging.getLogger(__name__)

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compression_of(head: bytes) -> str:
    """`"gzip"`, `"zstd"` or `"none"`, judged from a stream's first bytes."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


def decompressed(stream: BinaryIO) -> BinaryIO:
    """Wrap a seekable stream so that reading it yields the uncompressed tar bytes.

    Raises:
        ContentError: the stream is zstd-compressed (not supported by the standard library).
    """
    head = stream.read(4)
    stream.seek(0)
    kind = compression_of(head)
    if kind == "gzip":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    if kind == "zstd":
        raise ContentError("zstd-compressed layers are not supported")
    return stream


def open_layer_tar(content: ContentStore, layer: Layer) -> tarfile.TarFile:
    """Open a layer blob as a streaming tar reader (`mode="r|"`); closing it closes the blob."""
    blob = content.open(layer.digest)
    reader = decompressed(blob)
    tar = tarfile.open(fileobj=reader, mode="r|")  # noqa: SIM115 - the caller closes it
    tar_close = tar.close

    def close() -> None:
        # TarFile does not own a fileobj it was given, so close the blob with it.
        tar_close()
        reader.close()
        blob.close()

    tar.close = close  # type: ignore[method-assign]
    return tar
