"""`image save [-o FILE] IMAGE...`: write images as a `docker load`-able archive.

The archive is what current Docker writes: Docker's own format (`manifest.json`,
`repositories`) and, beside it, an OCI image layout (`oci-layout`, `index.json`, `blobs/`)
that shares the same files. Layers are stored uncompressed under their diff IDs, so image IDs
(config digests) survive the round trip through Docker unchanged. Archive layout::

    blobs/sha256/<config hex>        the exact config bytes
    blobs/sha256/<diff_id hex>       each layer as a plain tar
    blobs/sha256/<manifest hex>      an OCI manifest over those blobs
    index.json  oci-layout  manifest.json  repositories

Scope: writing only; the stream may be a pipe (the tar is written in streaming mode).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from registry.oci import mediatypes as mt
from runtime_client.config import Stores
from runtime_client.errors import ContentError
from runtime_client.images.layers import decompressed
from runtime_client.images.naming import familiar, is_image_id, parse_reference, repository_of
from runtime_client.images.store import Image, Layer
from runtime_client.options import SaveOptions

__all__ = ["save"]

logger = logging.getLogger(__name__)

_COPY_CHUNK = 1024 * 1024
_EPOCH = 0  # mtime of archive members: fixed, so identical images give identical archives


@dataclass
class _Entry:
    image: Image
    tags: list[str]  # canonical


def save(stores: Stores, opts: SaveOptions, out: BinaryIO) -> None:
    """Write the named images (with the tags they were named by) to `out`.

    Raises:
        NoSuchImageError: a name matches no image.
        ContentError: a blob is missing or a layer does not match its diff ID.
    """
    entries = _entries(stores, opts.names)
    scratch_root = stores.content.root.parent / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root, prefix="save-") as scratch, \
            tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        written: set[str] = set()
        docker_manifest: list[dict[str, object]] = []
        repositories: dict[str, dict[str, str]] = {}
        index: list[dict[str, object]] = []
        _add_bytes(archive, "blobs/", None)
        _add_bytes(archive, "blobs/sha256/", None)
        for entry in entries:
            image = entry.image
            config_bytes = stores.content.read(image.id)
            _add_blob(archive, written, image.id.hex, config_bytes)
            layer_paths = []
            for layer in image.layers:
                with _plain_layer(stores, layer, Path(scratch)) as (path, size):
                    if layer.diff_id.hex not in written:
                        with open(path, "rb") as f:
                            _add_file(archive, f"blobs/sha256/{layer.diff_id.hex}", f, size)
                        written.add(layer.diff_id.hex)
                    layer_paths.append((layer, size))
            manifest = json.dumps({
                "schemaVersion": 2,
                "mediaType": mt.OCI_MANIFEST,
                "config": {"mediaType": mt.OCI_CONFIG, "digest": str(image.id),
                           "size": len(config_bytes)},
                "layers": [{"mediaType": mt.OCI_LAYER, "digest": str(layer.diff_id),
                            "size": size} for layer, size in layer_paths],
            }, separators=(",", ":")).encode()
            manifest_hex = hashlib.sha256(manifest).hexdigest()
            _add_blob(archive, written, manifest_hex, manifest)
            default = stores.images.default_registry
            shown_tags = [familiar(tag, default) for tag in entry.tags]
            docker_manifest.append({
                "Config": f"blobs/sha256/{image.id.hex}",
                "RepoTags": shown_tags or None,
                "Layers": [f"blobs/sha256/{layer.diff_id.hex}" for layer, _ in layer_paths],
            })
            descriptor = {"mediaType": mt.OCI_MANIFEST, "digest": f"sha256:{manifest_hex}",
                          "size": len(manifest)}
            names: list[str | None] = list(entry.tags) or [None]
            for tag in names:
                annotations: dict[str, str] = {}
                if tag is not None:
                    repo, _, tag_name = tag.rpartition(":")
                    annotations = {"io.containerd.image.name": tag,
                                   "org.opencontainers.image.ref.name": tag_name}
                    if image.layers:
                        repositories.setdefault(familiar(repo, default), {})[tag_name] = \
                            image.layers[-1].diff_id.hex
                index.append({**descriptor, **({"annotations": annotations}
                                               if annotations else {})})
        _add_bytes(archive, "index.json", json.dumps({
            "schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": index,
        }, separators=(",", ":")).encode())
        _add_bytes(archive, "manifest.json", json.dumps(docker_manifest).encode())
        _add_bytes(archive, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        if repositories:
            _add_bytes(archive, "repositories", json.dumps(repositories).encode())


def _entries(stores: Stores, names: tuple[str, ...]) -> list[_Entry]:
    entries: dict[str, _Entry] = {}
    default = stores.images.default_registry
    for name in names:
        image = stores.images.resolve(name)
        entry = entries.setdefault(str(image.id), _Entry(image, []))
        if is_image_id(name) or name.removeprefix("sha256:") in image.id.hex:
            continue
        ref = parse_reference(name, default)
        if ref.tag:
            tag = f"{repository_of(ref)}:{ref.tag}"
            if tag in image.repo_tags and tag not in entry.tags:
                entry.tags.append(tag)
    return list(entries.values())


@contextmanager
def _plain_layer(stores: Stores, layer: Layer, scratch: Path) -> Iterator[tuple[Path, int]]:
    """The layer as an uncompressed tar file, verified against its diff ID."""
    if layer.digest == layer.diff_id:
        yield stores.content.path(layer.digest), stores.content.size(layer.digest)
        return
    target = scratch / layer.diff_id.hex
    digest = hashlib.sha256()
    with stores.content.open(layer.digest) as blob, open(target, "wb") as out:
        reader = decompressed(blob)
        while chunk := reader.read(_COPY_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != layer.diff_id.hex:
        target.unlink(missing_ok=True)
        raise ContentError(f"layer {layer.digest} does not decompress to {layer.diff_id}")
    try:
        yield target, target.stat().st_size
    finally:
        target.unlink(missing_ok=True)


def _add_blob(archive: tarfile.TarFile, written: set[str], hex_digest: str, data: bytes) -> None:
    if hex_digest not in written:
        _add_bytes(archive, f"blobs/sha256/{hex_digest}", data)
        written.add(hex_digest)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes | None) -> None:
    info = tarfile.TarInfo(name.rstrip("/"))
    info.mtime = _EPOCH
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        archive.addfile(info)
        return
    info.size, info.mode = len(data), 0o644
    archive.addfile(info, io.BytesIO(data))


def _add_file(archive: tarfile.TarFile, name: str, f: BinaryIO, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, _EPOCH
    archive.addfile(info, f)

