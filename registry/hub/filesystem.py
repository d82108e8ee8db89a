"""An image's merged filesystem, read straight from its stored layers.

The layers are streamed from storage in order, gunzipped and their tar headers parsed on the
fly (`tarstream`); nothing is unpacked to disk and no file content is kept. Memory is bounded
by the decompression window, one chunk, and the entries of the one directory asked for.

Merging follows the OCI image spec's layer rules ("Whiteouts"): a `.wh.NAME` entry in a layer
removes NAME (and what it held) from the layers below, `.wh..wh..opq` empties its directory of
everything below, a later entry replaces an earlier one of the same path, and a path replaced
by a non-directory hides whatever the lower layers held beneath it. Member names with `..`
components are ignored, links are never followed, and a requested path may not leave the
image's root.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from registry.errors import InvalidRequestError, NotFoundError
from registry.hub.tarstream import TarFormatError, TarMember, TarReader
from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor, ManifestError, parse_manifest
from registry.services.manifests import ManifestService
from registry.storage.driver.base import StorageDriver, StorageDriverError
from registry.storage.paths import blob_path

logger = logging.getLogger(__name__)

__all__ = ["Directory", "FileEntry", "ImageFilesystem", "normalise_path"]

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
OUTPUT_CHUNK = 256 * 1024  # bytes of tar handed to the parser at a time


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One path of the merged filesystem."""

    name: str
    kind: str  # "file", "dir", "symlink", "hardlink", a device, "fifo" or "other"
    size: int
    mode: int
    link: str
    layer: int  # 1-based: the layer the path's current version comes from
    changed: bool  # a lower layer had this path too (changed, not added)


@dataclass(frozen=True, slots=True)
class Directory:
    """A page of a directory's entries, or the single entry of a path that is no directory."""

    path: str  # "/" or "/etc/ssl"
    entry: FileEntry | None  # the path itself (None for the root)
    children: tuple[FileEntry, ...]
    total: int  # entries in the whole directory


def normalise_path(path: str) -> tuple[str, ...]:
    """The components of an absolute path inside the image.

    Raises:
        InvalidRequestError: relative, or reaching outside the root with `..`.
    """
    if not path.startswith("/"):
        raise InvalidRequestError("paths inside an image start with /")
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts or any("\0" in part for part in parts):
        raise InvalidRequestError("paths may not leave the image")
    return tuple(parts)


def _member_parts(member: TarMember) -> tuple[str, ...] | None:
    parts = [part for part in member.name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None  # a hostile layer cannot place anything outside the root
    return tuple(parts)


class _LayerView:
    """What one layer does to the requested directory and the path above it."""

    def __init__(self, target: tuple[str, ...]) -> None:
        self.target = target
        self.children: dict[str, FileEntry] = {}
        self.implied: set[str] = set()  # children present only as the parent of deeper paths
        self.whiteouts: set[str] = set()
        self.opaque = False
        self.hides_target = False  # a whiteout, opaque dir or non-directory above or at it
        self.self_entry: FileEntry | None = None  # the target path itself, when in the layer
        self.touches_target = False  # the layer holds the target or something under it

    def add(self, parts: tuple[str, ...], member: TarMember, layer: int) -> None:
        depth = len(self.target)
        name = parts[-1] if parts else ""
        parent = parts[:-1]
        if name.startswith(WHITEOUT):
            if name == OPAQUE:
                if parent == self.target:
                    self.opaque = True
                elif parent == self.target[: len(parent)]:
                    self.hides_target = True
                return
            hidden = (*parent, name[len(WHITEOUT) :])
            if parent == self.target:
                self.whiteouts.add(hidden[-1])
            elif hidden == self.target[: len(hidden)]:
                self.hides_target = True
            return
        if parts == self.target:
            self.touches_target = True
            self.self_entry = _entry(name, member, layer)
            if member.kind != "dir":
                self.hides_target = True  # a file replaced the directory: nothing below stays
            return
        if len(parts) < depth and parts == self.target[: len(parts)]:
            if member.kind != "dir":
                self.hides_target = True
            return
        if parts[:depth] != self.target:
            return
        self.touches_target = True
        child = parts[depth]
        if len(parts) == depth + 1:
            self.children[child] = _entry(child, member, layer)
            self.implied.discard(child)
        elif child not in self.children:
            # A deeper path implies its directory, even without an entry of its own.
            self.children[child] = FileEntry(child, "dir", 0, 0o755, "", layer, False)
            self.implied.add(child)


def _entry(name: str, member: TarMember, layer: int) -> FileEntry:
    return FileEntry(name, member.kind, member.size, member.mode, member.link, layer, False)


class ImageFilesystem:
    """Lists directories of images stored in the hub.

    Args:
        manifests: the manifest service the registry API uses.
        driver: blob storage holding the layers.
    """

    def __init__(self, manifests: ManifestService, driver: StorageDriver) -> None:
        self.manifests = manifests
        self.driver = driver

    async def directory(
        self, repository: str, reference: Digest | str, path: str, *, offset: int, limit: int
    ) -> Directory:
        """One page of the merged directory at `path` (or the entry, for a file).

        Raises:
            InvalidRequestError: a path outside the image, or an index (no single filesystem).
            NotFoundError: no such path in the image.
            ManifestUnknownError: no such tag or digest.
        """
        target = normalise_path(path)
        layers = await self._layers(repository, reference)
        children: dict[str, FileEntry] = {}
        entry: FileEntry | None = None
        exists = not target
        for number, layer in enumerate(layers, start=1):
            existed = exists
            view = _LayerView(target)
            async for member in self._members(layer):
                parts = _member_parts(member)
                if parts is not None:
                    view.add(parts, member, number)
            if view.hides_target:
                children, entry, exists = {}, None, False
            if view.opaque:
                children = {}
            for name in view.whiteouts:
                children.pop(name, None)
            if view.self_entry is not None:
                entry = replace(view.self_entry, changed=existed)
            if view.touches_target:
                exists = True
            for name, child in view.children.items():
                lower = children.get(name)
                if lower is not None and lower.kind == "dir" and name in view.implied:
                    continue  # only something beneath it changed; the directory stays as it was
                children[name] = replace(child, changed=lower is not None)
        if not exists:
            raise NotFoundError("no such path in the image")
        shown = "/" + "/".join(target)
        if entry is not None and entry.kind != "dir":
            return Directory(shown, entry, (), 0)
        ordered = sorted(children.values(), key=lambda e: e.name)
        return Directory(shown, entry, tuple(ordered[offset : offset + limit]), len(ordered))

    async def _layers(self, repository: str, reference: Digest | str) -> tuple[Descriptor, ...]:
        record = await self.manifests.get(repository, reference)
        try:
            manifest = parse_manifest(record.payload, record.media_type)
        except ManifestError as exc:
            raise InvalidRequestError("the manifest cannot be read") from exc
        if manifest.is_index:
            raise InvalidRequestError("an index has no filesystem; pick a platform")
        return manifest.layers

    async def _members(self, layer: Descriptor) -> AsyncIterator[TarMember]:
        media_type = layer.media_type
        if media_type.endswith(("+gzip", ".gzip")):
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        elif media_type.endswith((".tar", "+tar", "layer.v1.tar")):
            inflater = None
        else:
            logger.info("layer %s: %s is not browsable", layer.digest, media_type)
            return
        reader = TarReader()
        try:
            async for chunk in self.driver.reader(blob_path(layer.digest)):
                if inflater is None:
                    for member in reader.feed(chunk):
                        yield member
                    continue
                data = inflater.decompress(chunk, OUTPUT_CHUNK)
                while True:
                    for member in reader.feed(data):
                        yield member
                    if not inflater.unconsumed_tail or reader.finished:
                        break
                    data = inflater.decompress(inflater.unconsumed_tail, OUTPUT_CHUNK)
                if reader.finished:
                    return
        except (zlib.error, TarFormatError, StorageDriverError) as exc:
            logger.warning("layer %s cannot be listed: %s", layer.digest, exc)
