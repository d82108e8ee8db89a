"""`image prune [-a]`: remove dangling images (or every unused one) and orphaned blobs."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TextIO

from runtime_client.config import Stores
from runtime_client.humanize import human_size
from runtime_client.images.naming import familiar
from runtime_client.ops.rmi import remove_image
from runtime_client.options import ImagePruneOptions

__all__ = ["image_prune"]

logger = logging.getLogger(__name__)


def image_prune(
    stores: Stores,
    opts: ImagePruneOptions,
    stdout: TextIO,
    in_use: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Remove images with no tag (with `-a`: every image no container uses), then any blob
    no image references (left over by interrupted pulls or loads).

    Returns:
        Bytes reclaimed.
    """
    in_use = in_use or {}
    default = stores.images.default_registry
    reclaimed = 0
    lines: list[str] = []
    for image in stores.images.list():
        if str(image.id) in in_use or (image.repo_tags and not opts.all):
            continue
        for name in (*image.repo_tags, *image.repo_digests):
            stores.images.untag(name)
            lines.append(f"untagged: {familiar(name, default)}")
        deleted, freed = remove_image(stores, image)
        reclaimed += freed
        lines.extend(f"deleted: {digest}" for digest in deleted)
    sizes = dict(stores.content.walk())
    for digest in stores.images.collect_garbage():
        reclaimed += sizes.get(digest, 0)
    if lines:
        stdout.write("Deleted Images:\n" + "\n".join(lines) + "\n\n")
    stdout.write(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return reclaimed

