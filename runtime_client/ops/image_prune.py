"""`image prune [-a] [--filter ...]`: remove dangling images (or every unused one) and
orphaned blobs."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TextIO

from runtime_client.config import Stores
from runtime_client.humanize import human_size, parse_time
from runtime_client.images.naming import familiar
from runtime_client.ops.prune_filters import IMAGE_KEYS
from runtime_client.ops.rmi import remove_image
from runtime_client.options import ImagePruneOptions

__all__ = ["image_prune"]

logger = logging.getLogger(__name__)


def image_prune(
    stores: Stores,
    opts: ImagePruneOptions,
    stdout: TextIO,
    in_use: Mapping[str, Sequence[str]] | None = None,
    now: datetime | None = None,
) -> int:
    """Remove images with no tag (with `-a` or `dangling=false`: every image no container
    uses) that the filters allow, then any blob no image references (left over by interrupted
    pulls or loads).

    Args:
        stores: the local stores.
        opts: `-a` and the filters.
        stdout: where the report goes.
        in_use: image ID -> the containers using it.
        now: the moment an `until` duration counts back from (default: now).

    Returns:
        Bytes reclaimed.

    Raises:
        InvalidOptionError: a filter dockerd refuses for images.
    """
    in_use = in_use or {}
    filters = opts.filters.validated(IMAGE_KEYS, now or datetime.now(UTC))
    prune_tagged = opts.all or filters.prunes_tagged
    default = stores.images.default_registry
    reclaimed = 0
    lines: list[str] = []
    for image in stores.images.list():
        if str(image.id) in in_use or (image.repo_tags and not prune_tagged):
            continue
        labels = (image.config.get("config") or {}).get("Labels")
        if not filters.allows(parse_time(image.created), labels):
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

