"""The container half's view of the local image store (`ops.context.ImageResolver`).

Adapts `images.store.ImageStore` and `content.store.ContentStore`: layers are opened from the
content store by blob digest, and `create_image` (commit, import of an exported root) writes
one new gzip layer blob and records the image with the parent's layers plus that one.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from runtime_client.config import Stores
from runtime_client.images.naming import parse_reference, repository_of
from runtime_client.images.store import Image, Layer
from runtime_client.ops.context import ImageSummary, ResolvedImage
from runtime_client.unpack import LayerSource

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


class StoreImageResolver:
    """ImageResolver over the local image and content stores."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores

    def _resolved(self, image: Image, reference: str) -> ResolvedImage:
        content = self.stores.content
        layers = [LayerSource(str(layer.diff_id), lambda d=layer.digest: content.open(d))
                  for layer in image.layers]
        return ResolvedImage(str(image.id), reference, image.config, layers, handle=image)

    def resolve(self, reference: str) -> ResolvedImage:
        return self._resolved(self.stores.images.resolve(reference), reference)

    def create_image(self, config: dict[str, Any], parent: ResolvedImage | None,
                     layer_blob: Path | None, reference: str | None) -> str:
        layers: list[Layer] = list(parent.handle.layers) if parent and parent.handle else []
        if layer_blob is not None:
            diff_id = Digest.parse(config["rootfs"]["diff_ids"][-1])
            docker_types = bool(layers) and all(
                layer.media_type.startswith("application/vnd.docker.") for layer in layers)
            with self.stores.content.writer(f"commit-{uuid.uuid4().hex}") as writer, \
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
        return [ImageSummary(str(i.id), i.size, tuple(i.repo_tags))
                for i in self.stores.images.list()]

    def remove(self, image_id: str) -> int:
        image = self.stores.images.get(Digest.parse(image_id))
        self.stores.images.remove(image.id)
        return image.size
