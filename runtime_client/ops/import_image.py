"""`image import FILE|URL|- [REPO[:TAG]]`: make a one-layer image from a root-filesystem tar.

The tar (plain or gzip; from a file, an http(s) URL or stdin) becomes the image's only
layer, stored uncompressed so that its digest is its diff ID. `--change` applies Dockerfile
instructions to the config (`runtime_client.images.changes`), `-m` sets the history comment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tarfile
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from registry.oci import mediatypes as mt
from runtime_client.config import Stores
from runtime_client.content.store import ContentWriter
from runtime_client.distribution.platforms import Platform, host_platform
from runtime_client.errors import InvalidArchiveError, RuntimeClientError
from runtime_client.images.changes import apply_changes
from runtime_client.images.layers import decompressed
from runtime_client.images.naming import parse_reference, repository_of
from runtime_client.images.store import Image, Layer
from runtime_client.options import ImportOptions

__all__ = ["import_image"]

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


def import_image(stores: Stores, opts: ImportOptions, stdin: BinaryIO, stdout: TextIO,
                 now: datetime | None = None) -> Image:
    """Import a root filesystem tar as an image; writes its ID to `stdout`.

    Raises:
        InvalidArchiveError: the source is not a (complete) tar archive.
        RuntimeClientError: the source cannot be read.
    """
    tag = None
    if opts.reference:
        ref = parse_reference(opts.reference, stores.images.default_registry)
        tag = f"{repository_of(ref)}:{ref.tag}"
    platform = Platform.parse(opts.platform) if opts.platform else host_platform()
    created = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    scratch = stores.content.root.parent / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with stores.images.lease() as lease:
        writer = stores.content.writer(f"import-{uuid.uuid4().hex}")
        try:
            writer.truncate()
            with _open_source(opts.source, stdin, scratch) as raw:
                reader = decompressed(raw)
                while chunk := reader.read(_CHUNK):
                    writer.write(chunk)
            size = writer.offset
            digest = writer.digest()
            _check_tar(writer)
            lease.add(digest)
            writer.commit(digest, size)
        except (OSError, EOFError) as exc:
            raise InvalidArchiveError(f"invalid archive: {exc}") from exc
        finally:
            writer.close()
            stores.content.abort(writer.ref)  # no-op after a commit
        config = {
            "architecture": platform.architecture,
            "os": platform.os,
            **({"variant": platform.variant} if platform.variant else {}),
            "created": created,
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [str(digest)]},
            "history": [{"created": created,
                         "comment": opts.message or f"Imported from {opts.source}"}],
        }
        config = apply_changes(config, list(opts.changes))
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        image = stores.images.create(
            config_bytes, [Layer(digest, mt.OCI_LAYER, size, digest)],
            tags=[tag] if tag else [],
        )
    stdout.write(f"{image.id}\n")
    return image


class _open_source:
    """The source as a seekable binary file (URLs and stdin are spooled to a temp file)."""

    def __init__(self, source: str, stdin: BinaryIO, scratch: Path) -> None:
        self._source, self._stdin, self._scratch = source, stdin, scratch
        self._file: BinaryIO | None = None
        self._spool: Path | None = None

    def __enter__(self) -> BinaryIO:
        if self._source.startswith(("http://", "https://")):
            self._file = self._spooled(self._download())
        elif self._source == "-":
            self._file = self._spooled(self._stdin)
        else:
            try:
                self._file = open(self._source, "rb")
            except FileNotFoundError as exc:
                raise RuntimeClientError(f"open {self._source}: no such file or directory") \
                    from exc
        return self._file

    def _download(self) -> BinaryIO:
        try:
            return urllib.request.urlopen(self._source, timeout=60)  # type: ignore[no-any-return]
        except OSError as exc:
            raise RuntimeClientError(f"Get {self._source}: {exc}") from exc

    def _spooled(self, stream: BinaryIO) -> BinaryIO:
        digest = hashlib.sha256(self._source.encode()).hexdigest()[:16]
        self._spool = self._scratch / f"import-{digest}-{id(self)}"
        with open(self._spool, "wb") as out:
            shutil.copyfileobj(stream, out, _CHUNK)
        return open(self._spool, "rb")

    def __exit__(self, *exc_info: object) -> None:
        if self._file is not None:
            self._file.close()
        if self._spool is not None:
            self._spool.unlink(missing_ok=True)


def _check_tar(writer: ContentWriter) -> None:
    """Refuse input that is not a complete tar archive (before anything is committed).

    tarfile stops quietly at a cut-off header and seeks past member data, so completeness
    is checked here: every member's data is present, and whatever follows the last member
    is end-of-archive zero blocks.
    """
    end = 0
    try:
        with writer.reader() as data, tarfile.open(fileobj=data, mode="r:") as archive:
            for member in archive:
                end = member.offset_data + -(-member.size // tarfile.BLOCKSIZE) * \
                    tarfile.BLOCKSIZE
                if member.offset_data + member.size > writer.offset:
                    raise InvalidArchiveError("invalid tar archive: unexpected EOF")
            data.seek(end)
            tail = data.read()
    except (tarfile.TarError, EOFError) as exc:
        raise InvalidArchiveError(f"invalid tar archive: {exc}") from exc
    if tail.strip(b"\0") or len(tail) % tarfile.BLOCKSIZE:
        raise InvalidArchiveError("invalid tar archive: unexpected EOF")
