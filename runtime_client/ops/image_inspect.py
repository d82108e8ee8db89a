"""`image inspect`: Docker's JSON description of local images."""

from __future__ import annotations

import json
import logging
from typing import Any, TextIO

from runtime_client.config import Stores
from runtime_client.errors import NoSuchImageError
from runtime_client.images.naming import familiar
from runtime_client.images.store import Image
from runtime_client.options import ImageInspectOptions
from runtime_client.templating import render_documents

__all__ = ["image_inspect", "inspect_document"]

logger = logging.getLogger(__name__)


def inspect_document(image: Image, default_registry: str, size: int) -> dict[str, Any]:
    """One image as Docker's `ImageInspect` JSON (field names as Docker's API has them);
    `size` is its unpacked size (`ImageStore.unpacked_sizes`)."""
    config = image.config
    return {
        "Id": str(image.id),
        "RepoTags": [familiar(tag, default_registry) for tag in image.repo_tags],
        "RepoDigests": [familiar(d, default_registry) for d in image.repo_digests],
        "Parent": "",
        "Comment": _last_comment(config),
        "Created": image.created,
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": config.get("config") or {},
        "Architecture": config.get("architecture", ""),
        **({"Variant": config["variant"]} if config.get("variant") else {}),
        "Os": config.get("os", ""),
        "Size": size,
        "RootFS": {
            "Type": (config.get("rootfs") or {}).get("type", "layers"),
            "Layers": [str(layer.diff_id) for layer in image.layers],
        },
        "Metadata": {"LastTagTime": "0001-01-01T00:00:00Z"},
        "Descriptor": {
            "mediaType": image.manifest_media_type,
            "digest": str(image.manifest_digest),
        },
    }


def _last_comment(config: dict[str, Any]) -> str:
    history = config.get("history") or []
    if history and isinstance(history[-1], dict):
        return str(history[-1].get("comment", ""))
    return ""


def image_inspect(stores: Stores, opts: ImageInspectOptions, stdout: TextIO) -> None:
    """Write the inspect JSON array (or one template line per image) to `stdout`.

    Raises:
        NoSuchImageError: after writing what was found, when any name matched nothing.
    """
    documents, missing = [], []
    for name in opts.names:
        try:
            image = stores.images.resolve(name)
        except NoSuchImageError:
            missing.append(name)
            continue
        size = stores.images.unpacked_sizes([image])[image.id]
        documents.append(inspect_document(image, stores.images.default_registry, size))
    if opts.format:
        stdout.write(render_documents(opts.format, documents))
    else:
        stdout.write(json.dumps(documents, indent=4) + "\n")
    if missing:
        raise NoSuchImageError(missing[0])
