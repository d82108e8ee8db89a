"""An image's merged filesystem, read straight from its stored layers.

The layers are streamed from storage in order, gunzipped and their tar headers parsed on the
fly (`tarstream`); nothing is unpacked to disk and no file content is kept. The headers of
recently listed layers (names, kinds, sizes, modes, links: never content) are kept in a
least-recently-used cache bounded by a number of entries, so browsing an image after its first
page costs no storage reads and no gunzip; a layer with more entries than the whole budget is
streamed every time. Memory is bounded by that budget, the decompression window, one chunk,
and the entries of the one directory asked for. Layers are content-addressed, so a cached
listing never goes stale; access is checked on the manifest that names the layer, as before.

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
from collections import OrderedDict
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


LayerIndex = tuple[tuple[tuple[str, ...], TarMember], ...]
"""A layer's usable members, in tar order, with their path components."""


class _LayerIndexCache:
    """Least recently used layer indexes, holding at most `max_entries` members in all."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._indexes: OrderedDict[str, LayerIndex] = OrderedDict()
        self._held = 0

    def get(self, digest: str) -> LayerIndex | None:
        index = self._indexes.get(digest)
        if index is not None:
            self._indexes.move_to_end(digest)
        return index

    def put(self, digest: str, index: LayerIndex) -> None:
        if digest in self._indexes or len(index) > self.max_entries:
            return
        self._indexes[digest] = index
        self._held += len(index)
        while self._held > self.max_entries:
            _, evicted = self._indexes.popitem(last=False)
            self._held -= len(evicted)


class ImageFilesystem:
    """Lists directories of images stored in the hub.

    Args:
        manifests: the manifest service the registry API uses.
        driver: blob storage holding the layers.
        cached_entries: how many layer entries (tar headers) the cache may hold in all;
            about 300 bytes each.
    """

    def __init__(
        self, manifests: ManifestService, driver: StorageDriver, cached_entries: int = 200_000
    ) -> None:
        self.manifests = manifests
        self.driver = driver
        self._cache = _LayerIndexCache(cached_entries)

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
            async for parts, member in self._layer_members(layer):
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

    async def _layer_members(
        self, layer: Descriptor
    ) -> AsyncIterator[tuple[tuple[str, ...], TarMember]]:
        """The layer's usable members with their path components: from the cache, or read
        from storage and cached when the whole layer was read and fits the budget."""
        digest = str(layer.digest)
        cached = self._cache.get(digest)
        if cached is not None:
            for item in cached:
                yield item
            return
        kept: list[tuple[tuple[str, ...], TarMember]] | None = []
        try:
            async for member in self._members(layer):
                parts = _member_parts(member)
                if parts is None:
                    continue
                if kept is not None:
                    kept.append((parts, member))
                    if len(kept) > self._cache.max_entries:
                        kept = None  # too big to keep: memory stays bounded
                yield parts, member
        except (zlib.error, TarFormatError, StorageDriverError) as exc:
            logger.warning("layer %s cannot be listed: %s", layer.digest, exc)
            return  # what was read is shown, never cached
        if kept is not None:
            self._cache.put(digest, tuple(kept))

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
