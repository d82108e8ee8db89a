"""The container half's view of the local image store (`ops.context.ImageResolver`).

Adapts `images.store.ImageStore` and `content.store.ContentStore`: layers are opened from the
content store by blob digest, and `create_image` (commit) writes one new gzip layer blob and
records the image with the parent's layers plus that one.

The image database is opened only when needed. Resolved references are remembered in
`<root>/image-cache.json` with the database's generation (`images.generation`), read before
the database was asked; the cache is used only while the generation is still the same, so
`berth run` of a known image does not need to load SQLAlchemy at all, and a change made by any
process after that read (a moved tag, a removed image) invalidates the whole cache.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from runtime_client.config import ClientConfig
from runtime_client.content.store import ContentStore
from runtime_client.images.generation import read_generation
from runtime_client.ops.context import ImageSummary, ResolvedImage
from runtime_client.unpack import LayerSource

if TYPE_CHECKING:
    from runtime_client.config import Stores
    from runtime_client.images.store import Image, Layer

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
CACHE_FILE = "image-cache.json"


class StoreImageResolver:
    """ImageResolver over the local image and content stores of one root."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.content = ContentStore(config.root)
        self._stores: Stores | None = None
        self._learned: dict[str, Any] = {}
        self._learned_generation: int | None = None

    @property
    def stores(self) -> Stores:
        """The content and image stores, opened on first use."""
        if self._stores is None:
            from runtime_client.config import open_stores

            self._stores = open_stores(self.config)
        return self._stores

    def close(self) -> None:
        """Close the database, then save what this process resolved (see module docstring)."""
        if self._stores is None:
            return
        self._stores.close()
        if self._learned:
            path = self.config.root / CACHE_FILE
            tmp = path.with_name(f".{CACHE_FILE}.{os.getpid()}")
            cache = {"generation": self._learned_generation, "refs": self._learned}
            with contextlib.suppress(OSError):
                tmp.write_text(json.dumps(cache))
                os.replace(tmp, path)

    # -- the resolve cache ----------------------------------------------------------------

    def _read_cache(self) -> tuple[int | None, dict[str, Any]]:
        """The database's generation now, and the cached references still valid at it."""
        generation = read_generation(self.config.root / "images.db")
        if generation is None:
            return None, {}
        try:
            cache = json.loads((self.config.root / CACHE_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return generation, {}
        if cache.get("generation") != generation:
            return generation, {}
        return generation, cache.get("refs", {})

    def _remember(self, generation: int | None, cached: dict[str, Any], reference: str,
                  entry: dict[str, Any]) -> None:
        """Keep `entry`, read from the database after `generation` was read."""
        if generation is None:
            return  # no counter to vouch for it yet (a new or older database)
        if generation != self._learned_generation:
            # What was learned at another generation may be out of date at this one.
            self._learned = dict(cached)
            self._learned_generation = generation
        self._learned[reference] = entry

    def _resolved(self, reference: str, entry: dict[str, Any]) -> ResolvedImage:
        layers = [LayerSource(layer["diff_id"], self._opener(layer["digest"]))
                  for layer in entry["layers"]]
        return ResolvedImage(entry["id"], reference, entry["config"], layers,
                             handle=entry["layers"])

    def _opener(self, digest: str) -> Callable[[], BinaryIO]:
        return lambda: self.content.open(Digest.parse(digest))

    def resolve(self, reference: str) -> ResolvedImage:
        generation, cached = self._read_cache()
        entry = cached.get(reference)
        if entry is None:
            image: Image = self.stores.images.resolve(reference)
            entry = {
                "id": str(image.id), "config": image.config,
                "layers": [{"digest": str(layer.digest), "media_type": layer.media_type,
                            "size": layer.size, "diff_id": str(layer.diff_id)}
                           for layer in image.layers],
            }
            self._remember(generation, cached, reference, entry)
        return self._resolved(reference, entry)

    # -- writing ----------------------------------------------------------------------------

    def create_image(self, config: dict[str, Any], parent: ResolvedImage | None,
                     layer_blob: Path | None, reference: str | None) -> str:
        from runtime_client.images.naming import parse_reference, repository_of
        from runtime_client.images.store import Layer

        layers: list[Layer] = [
            Layer(Digest.parse(d["digest"]), d["media_type"], d["size"],
                  Digest.parse(d["diff_id"]))
            for d in (parent.handle if parent and parent.handle else [])]
        if layer_blob is not None:
            diff_id = Digest.parse(config["rootfs"]["diff_ids"][-1])
            docker_types = bool(layers) and all(
                layer.media_type.startswith("application/vnd.docker.") for layer in layers)
            with self.stores.content.writer(f"commit-{secrets.token_hex(16)}") as writer, \
                    open(layer_blob, "rb") as f:
                while chunk := f.read(_CHUNK):
                    writer.write(chunk)
                digest = writer.commit()
            layers.append(Layer(digest, mt.DOCKER_LAYER if docker_types else mt.OCI_LAYER_GZIP,
                                layer_blob.stat().st_size, diff_id))
        tags = []
        if reference:
            ref = parse_reference(reference, self.stores.images.default_registry)
            tags.append(f"{repository_of(ref)}:{ref.tag or 'latest'}")
        body = json.dumps(config, separators=(",", ":")).encode()
        image = self.stores.images.create(body, layers, tags=tags)
        return str(image.id)

    def summaries(self) -> list[ImageSummary]:
        images = self.stores.images.list()
        sizes = self.stores.images.unpacked_sizes(images)
        return [ImageSummary(str(i.id), sizes[i.id], tuple(i.repo_tags), i.created,
                             (i.config.get("config") or {}).get("Labels") or {})
                for i in images]

    def remove(self, image_id: str) -> int:
        image = self.stores.images.get(Digest.parse(image_id))
        size = self.stores.images.unpacked_sizes([image])[image.id]
        self.stores.images.remove(image.id)
        return size
