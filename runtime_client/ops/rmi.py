"""`image rm [-f] IMAGE...`: untag, and delete images (and now-unused layers) as Docker does.

Rules (Docker's `ImageDelete`): naming an image by `name:tag` or `name@digest` removes that
name; the image itself goes when no tag is left. Naming it by ID removes every name, but only
with `-f` when the names span several repositories. An image a container uses is kept (`-f`
still removes its names). Blobs shared with another image stay.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TextIO

from registry.oci.digest import Digest
from runtime_client.config import Stores
from runtime_client.errors import ImageInUseError, RuntimeClientError
from runtime_client.images.naming import familiar, is_image_id, parse_reference, repository_of
from runtime_client.images.store import Image
from runtime_client.options import RmiOptions

__all__ = ["remove_image", "rmi"]

logger = logging.getLogger(__name__)


def rmi(
    stores: Stores,
    opts: RmiOptions,
    stdout: TextIO,
    in_use: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Remove each named image, writing `Untagged:` / `Deleted:` lines to `stdout`.

    Args:
        stores: the local stores.
        opts: names and `-f`.
        stdout: where progress lines go.
        in_use: image ID -> containers using it (supplied by the container half).

    Raises:
        RuntimeClientError: after trying every name, the first failure (others are logged).
    """
    failures: list[RuntimeClientError] = []
    for name in opts.names:
        try:
            _remove_one(stores, name, opts.force, stdout, in_use or {})
        except RuntimeClientError as exc:
            failures.append(exc)
    if failures:
        if len(failures) > 1:
            for extra in failures[1:]:
                logger.error("%s", extra)
        raise failures[0]


def _remove_one(stores: Stores, name: str, force: bool, stdout: TextIO,
                in_use: Mapping[str, Sequence[str]]) -> None:
    images = stores.images
    default = images.default_registry
    image = images.resolve(name)
    by_name = _matched_name(image, name, default)
    users = in_use.get(str(image.id), ())
    if by_name is not None:
        remaining_tags = [t for t in image.repo_tags if t != by_name]
        if users and not force and not remaining_tags:
            raise ImageInUseError(
                f'conflict: unable to remove repository reference "{name}" (must force) - '
                f"container {users[0]} is using its referenced image {image.short_id}"
            )
        images.untag(by_name)
        stdout.write(f"Untagged: {familiar(by_name, default)}\n")
        if remaining_tags:
            return
        image = images.get(image.id)
        if image.repo_tags:
            return
    else:
        repos = {t.rsplit(":", 1)[0] for t in image.repo_tags}
        if len(repos) > 1 and not force:
            raise ImageInUseError(
                f"conflict: unable to delete {image.short_id} (must be forced) - "
                "image is referenced in multiple repositories"
            )
        if users and not force:
            raise ImageInUseError(
                f"conflict: unable to delete {image.short_id} (must be forced) - "
                f"image is being used by container {users[0]}"
            )
        for tag in image.repo_tags:
            images.untag(tag)
            stdout.write(f"Untagged: {familiar(tag, default)}\n")
    if users:
        return
    for repo_digest in images.get(image.id).repo_digests:
        images.untag(repo_digest)
        stdout.write(f"Untagged: {familiar(repo_digest, default)}\n")
    deleted, _freed = remove_image(stores, image)
    for digest in deleted:
        stdout.write(f"Deleted: {digest}\n")


def remove_image(stores: Stores, image: Image) -> tuple[list[Digest], int]:
    """Delete the image record and its now-unused blobs.

    Returns:
        The IDs to report as deleted (the image, then freed layers) and the bytes freed.
    """
    layer_digests = [layer.digest for layer in image.layers]
    sizes = {digest: _size(stores, digest) for digest in {image.id, *layer_digests}}
    freed: set[Digest] = set(stores.images.remove(image.id))
    deleted = [image.id] + [d for d in dict.fromkeys(layer_digests) if d in freed]
    return deleted, sum(sizes.get(d, 0) for d in freed)


def _size(stores: Stores, digest: Digest) -> int:
    try:
        return stores.content.size(digest)
    except RuntimeClientError:
        return 0


def _matched_name(image: Image, name: str, default: str) -> str | None:
    """The stored tag or repo digest `name` refers to, or None when it named the ID."""
    if is_image_id(name):
        return None
    try:
        ref = parse_reference(name, default)
    except RuntimeClientError:
        return None
    repo = repository_of(ref)
    candidate = f"{repo}@{ref.digest}" if ref.digest else f"{repo}:{ref.tag}"
    if candidate in image.repo_tags or candidate in image.repo_digests:
        return candidate
    return None

