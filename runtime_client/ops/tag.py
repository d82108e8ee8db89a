"""`image tag SOURCE TARGET`: give a local image another name."""

from __future__ import annotations

import logging

from runtime_client.config import Stores
from runtime_client.errors import InvalidReferenceError
from runtime_client.images.naming import parse_reference, repository_of
from runtime_client.options import TagOptions

__all__ = ["tag"]

logger = logging.getLogger(__name__)


def tag(stores: Stores, opts: TagOptions) -> None:
    """Point TARGET (a `name[:tag]`, tag defaulting to latest) at SOURCE's image.

    Raises:
        NoSuchImageError: SOURCE names no local image.
        InvalidReferenceError: TARGET is not a valid name or carries a digest.
    """
    image = stores.images.resolve(opts.source)
    target = parse_reference(opts.target, stores.images.default_registry)
    if target.digest is not None:
        raise InvalidReferenceError("refusing to create a tag with a digest reference")
    stores.images.tag(image.id, f"{repository_of(target)}:{target.tag}")
