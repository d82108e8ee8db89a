"""`image load [-i FILE]`: read a Docker archive or an OCI layout archive into the stores.

Both formats are accepted (plain or gzip-compressed): Docker's (`manifest.json`, configs and
layer tars, as `docker save` writes in every version) and OCI image layouts (`index.json`,
`blobs/`, as `skopeo copy oci-archive:` and current Docker write). The archive is first
unpacked into a scratch directory and checked completely (tar structure, every digest, diff
IDs against configs); only then are blobs committed and images recorded. A truncated or
inconsistent archive therefore changes nothing in the stores.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor, ManifestError, parse_manifest
from runtime_client.config import Stores
from runtime_client.distribution.platforms import host_platform
from runtime_client.errors import InvalidArchiveError, RuntimeClientError
from runtime_client.images.layers import compression_of, decompressed
from runtime_client.images.naming import familiar, parse_reference, repository_of
from runtime_client.images.store import Image, Layer
from runtime_client.options import LoadOptions

__all__ = ["load", "load_archive"]

logger = logging.getLogger(__name__)

_CHUNK = 1024 * 1024


@dataclass
class _Pending:
    """An image found in the archive, checked but not yet stored."""

    config: bytes
    layers: list[tuple[Path, Layer]]
    tags: list[str]
    manifest: bytes | None = None
    manifest_media_type: str | None = None


def load(stores: Stores, opts: LoadOptions, stdin: BinaryIO, stdout: TextIO) -> list[Image]:
    """Load every image of the archive at `opts.input` (or on `stdin`).

    Returns:
        The images loaded; `Loaded image: NAME` (or `Loaded image ID: ID`) lines go to stdout.

    Raises:
        InvalidArchiveError: truncated, malformed or inconsistent archive (nothing stored).
    """
    if opts.input:
        try:
            with open(opts.input, "rb") as f:
                return load_archive(stores, f, stdout, quiet=opts.quiet)
        except FileNotFoundError as exc:
            raise InvalidArchiveError(f"open {opts.input}: no such file or directory") from exc
    return load_archive(stores, stdin, stdout, quiet=opts.quiet)


def load_archive(stores: Stores, stream: BinaryIO, stdout: TextIO,
                 quiet: bool = False) -> list[Image]:
    """Load from an open archive stream (see `load`)."""
    scratch_root = stores.content.root.parent / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root, prefix="load-") as scratch:
        directory = Path(scratch)
        _unpack(stream, directory)
        if (directory / "manifest.json").is_file():
            pending = _docker_images(directory, stores.images.default_registry)
        elif (directory / "index.json").is_file():
            pending = _oci_images(directory, stores.images.default_registry)
        else:
            raise InvalidArchiveError(
                "invalid archive: neither manifest.json nor index.json found (truncated?)"
            )
        return _store(stores, pending, stdout, quiet)


class _TailReader:
    """Counts what passes through and keeps the last bytes (to check the archive's end)."""

    KEEP = 1024 * 1024

    def __init__(self, raw: BinaryIO, prefix: bytes = b"") -> None:
        self._raw, self._prefix = raw, prefix
        self.total = 0
        self.last = bytearray()

    def read(self, size: int = -1) -> bytes:
        if self._prefix:
            data, self._prefix = self._prefix[:size] if size >= 0 else self._prefix, b""
        else:
            data = self._raw.read(size)
        self.total += len(data)
        self.last += data
        if len(self.last) > self.KEEP:
            del self.last[: len(self.last) - self.KEEP]
        return data


def _plain_stream(stream: BinaryIO) -> BinaryIO:
    """The archive's tar bytes, decompressing gzip (which raises EOFError if cut short)."""
    head = stream.read(2)
    reader = _TailReader(stream, head)
    if compression_of(head) == "gzip":
        return gzip.GzipFile(fileobj=reader, mode="rb")  # type: ignore[call-overload, no-any-return]
    return reader  # type: ignore[return-value]


def _unpack(stream: BinaryIO, directory: Path) -> None:
    """Extract regular files, directories and in-archive symlinks; reject anything else,
    and refuse an archive whose end is cut off (tarfile itself stops quietly there)."""
    plain = _TailReader(_plain_stream(stream))
    end = 0
    try:
        with tarfile.open(fileobj=plain, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                end = member.offset_data + -(-member.size // tarfile.BLOCKSIZE) * \
                    tarfile.BLOCKSIZE
                _extract(archive, member, directory)
        while plain.read(_CHUNK):
            pass
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidArchiveError(
            f"invalid archive: {exc or 'unexpected EOF'} (is it truncated?)"
        ) from exc
    tail = plain.total - end
    if tail < 0 or tail % tarfile.BLOCKSIZE or tail > len(plain.last) or \
            any(plain.last[len(plain.last) - tail:]):
        raise InvalidArchiveError("invalid archive: unexpected EOF (is it truncated?)")


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, directory: Path) -> None:
    target = (directory / member.name).resolve()
    if not target.is_relative_to(directory.resolve()):
        raise InvalidArchiveError(f"invalid archive: unsafe path {member.name!r}")
    if member.isdir():
        target.mkdir(parents=True, exist_ok=True)
    elif member.isfile():
        target.parent.mkdir(parents=True, exist_ok=True)
        source = archive.extractfile(member)
        assert source is not None
        with open(target, "wb") as out:
            remaining = member.size
            while remaining:
                chunk = source.read(min(_CHUNK, remaining))
                if not chunk:
                    raise InvalidArchiveError("invalid archive: unexpected EOF")
                out.write(chunk)
                remaining -= len(chunk)
    elif member.issym() or member.islnk():
        # Old `docker save` links identical layer.tar files to each other.
        base = target.parent if member.issym() else directory
        linked = (base / member.linkname).resolve()
        if not linked.is_relative_to(directory.resolve()):
            raise InvalidArchiveError(f"invalid archive: unsafe link {member.name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(linked, target)


def _file_digest(path: Path) -> tuple[Digest, Digest, int]:
    """sha256 of the file, sha256 of its decompressed content, and the file size."""
    raw, plain = hashlib.sha256(), hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            raw.update(chunk)
        f.seek(0)
        reader = decompressed(f)
        try:
            while chunk := reader.read(_CHUNK):
                plain.update(chunk)
        except (OSError, EOFError) as exc:
            raise InvalidArchiveError(f"invalid archive: layer {path.name}: {exc}") from exc
    return Digest("sha256", raw.hexdigest()), Digest("sha256", plain.hexdigest()), \
        path.stat().st_size


def _member(directory: Path, name: str) -> Path:
    path = (directory / name).resolve()
    if not path.is_relative_to(directory.resolve()) or not path.is_file():
        raise InvalidArchiveError(f"invalid archive: {name} is missing (truncated?)")
    return path


def _diff_ids(config: bytes) -> list[str]:
    try:
        return list(json.loads(config)["rootfs"]["diff_ids"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidArchiveError(f"invalid archive: image config without diff_ids: {exc}") \
            from exc


def _layer_media_type(path: Path) -> str:
    with open(path, "rb") as f:
        kind = compression_of(f.read(4))
    return {"gzip": mt.OCI_LAYER_GZIP, "zstd": mt.OCI_LAYER_ZSTD}.get(kind, mt.OCI_LAYER)


def _docker_images(directory: Path, default: str) -> list[_Pending]:
    try:
        entries = json.loads(_member(directory, "manifest.json").read_bytes())
    except ValueError as exc:
        raise InvalidArchiveError(f"invalid archive: manifest.json: {exc}") from exc
    pending = []
    for entry in entries:
        config = _member(directory, entry["Config"]).read_bytes()
        diff_ids = _diff_ids(config)
        if len(diff_ids) != len(entry.get("Layers") or []):
            raise InvalidArchiveError("invalid archive: layer count differs from the config")
        layers = []
        for name, diff_id in zip(entry.get("Layers") or [], diff_ids, strict=True):
            path = _member(directory, name)
            digest, plain, size = _file_digest(path)
            if str(plain) != diff_id:
                raise InvalidArchiveError(f"invalid archive: {name} does not match {diff_id}")
            layers.append((path, Layer(digest, _layer_media_type(path), size, plain)))
        tags = []
        for repo_tag in entry.get("RepoTags") or []:
            ref = parse_reference(repo_tag, default)
            tags.append(f"{repository_of(ref)}:{ref.tag}")
        pending.append(_Pending(config, layers, tags))
    return pending


def _blob(directory: Path, descriptor: Descriptor) -> Path:
    path = _member(directory, f"blobs/{descriptor.digest.algorithm}/{descriptor.digest.hex}")
    hashed = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            hashed.update(chunk)
    digest = Digest("sha256", hashed.hexdigest())
    if digest != descriptor.digest or path.stat().st_size != descriptor.size:
        raise InvalidArchiveError(f"invalid archive: blob {descriptor.digest} is corrupt")
    return path


def _oci_images(directory: Path, default: str) -> list[_Pending]:
    try:
        index = json.loads(_member(directory, "index.json").read_bytes())
        roots = [Descriptor.from_dict(d, "index.json") for d in index.get("manifests") or []]
    except (ValueError, ManifestError) as exc:
        raise InvalidArchiveError(f"invalid archive: index.json: {exc}") from exc
    pending = []
    for root in roots:
        name = _oci_name(root.annotations or {}, default)
        descriptor = root
        if descriptor.media_type in mt.INDEX_TYPES:
            descriptor = _pick_platform(directory, descriptor)
        manifest_bytes = _blob(directory, descriptor).read_bytes()
        try:
            manifest = parse_manifest(manifest_bytes, descriptor.media_type)
        except ManifestError as exc:
            raise InvalidArchiveError(f"invalid archive: {exc}") from exc
        if manifest.config is None:
            raise InvalidArchiveError("invalid archive: manifest without a config")
        config = _blob(directory, manifest.config).read_bytes()
        diff_ids = _diff_ids(config)
        if len(diff_ids) != len(manifest.layers):
            raise InvalidArchiveError("invalid archive: layer count differs from the config")
        layers = []
        for layer, diff_id in zip(manifest.layers, diff_ids, strict=True):
            path = _blob(directory, layer)
            _digest, plain, _size = _file_digest(path)
            if str(plain) != diff_id:
                raise InvalidArchiveError(f"invalid archive: {layer.digest} is not {diff_id}")
            layers.append((path, Layer(layer.digest, layer.media_type, layer.size, plain)))
        pending.append(_Pending(config, layers, [name] if name else [], manifest_bytes,
                                manifest.media_type))
    return pending


def _oci_name(annotations: dict[str, str], default: str) -> str | None:
    for key in ("io.containerd.image.name", "org.opencontainers.image.ref.name"):
        value = annotations.get(key)
        if not value or (key.startswith("org.") and "/" not in value and ":" not in value):
            continue
        try:
            ref = parse_reference(value, default)
        except RuntimeClientError:
            continue
        if ref.tag:
            return f"{repository_of(ref)}:{ref.tag}"
    return None


def _pick_platform(directory: Path, index_descriptor: Descriptor) -> Descriptor:
    try:
        index = parse_manifest(_blob(directory, index_descriptor).read_bytes(),
                               index_descriptor.media_type)
    except ManifestError as exc:
        raise InvalidArchiveError(f"invalid archive: {exc}") from exc
    platform = host_platform()
    images = [d for d in index.manifests if d.media_type in mt.IMAGE_TYPES]
    for descriptor in images:
        if platform.matches(descriptor.platform):
            return descriptor
    if not images:
        raise InvalidArchiveError("invalid archive: index lists no image")
    return images[0]


def _store(stores: Stores, pending: list[_Pending], stdout: TextIO, quiet: bool) -> list[Image]:
    images = stores.images
    loaded = []
    with images.lease() as lease:
        for item in pending:
            lease.add(*(layer.digest for _path, layer in item.layers))
            for path, layer in item.layers:
                if stores.content.exists(layer.digest):
                    continue
                with stores.content.writer(f"load-{layer.digest}") as writer, \
                        open(path, "rb") as f:
                    writer.truncate()
                    while chunk := f.read(_CHUNK):
                        writer.write(chunk)
                    writer.commit(layer.digest, layer.size)
            image = images.create(
                item.config, [layer for _path, layer in item.layers], manifest=item.manifest,
                manifest_media_type=item.manifest_media_type, tags=item.tags,
            )
            loaded.append(image)
            if quiet:
                continue
            for tag in item.tags:
                stdout.write(f"Loaded image: {familiar(tag, images.default_registry)}\n")
            if not item.tags:
                stdout.write(f"Loaded image ID: {image.id}\n")
    return loaded

