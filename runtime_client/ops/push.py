"""`image push [-a] NAME[:TAG]`: upload a local image's blobs and manifest to its registry.

For each blob: skip it when the repository has it (HEAD), else mount it from another
repository of the same registry known to hold it (recorded by earlier pulls and pushes), else
upload it in retried chunks. A blob whose transfer still fails for a passing reason (a cut
connection, a registry replica going away, a lost upload session) is pushed again from the
start, as Docker does; a blob the registry turns out to hold by then is not sent again.
The stored manifest bytes are pushed unchanged, so the digest
the registry reports is the one recorded locally as a repo digest.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from typing import BinaryIO, TextIO, TypeVar

from registry.oci.digest import Digest
from registry.oci.reference import Reference
from runtime_client.config import ClientConfig, Stores
from runtime_client.distribution.client import RegistryClient, open_session, worth_retrying
from runtime_client.distribution.connect import client_for
from runtime_client.distribution.progress import Progress
from runtime_client.errors import NoSuchImageError, RuntimeClientError, UsageError
from runtime_client.images.naming import parse_reference, repository_of
from runtime_client.images.store import Image
from runtime_client.options import PushOptions
from runtime_client.tasks import run_all

__all__ = ["push", "push_image"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

CONCURRENT_UPLOADS = 5  # Docker's max-concurrent-uploads default
ATTEMPTS = 5  # per blob and manifest: Docker's max-upload-attempts default


async def push(stores: Stores, config: ClientConfig, opts: PushOptions, stdout: TextIO,
               progress: Progress, env: Mapping[str, str] | None = None) -> list[Digest]:
    """Push one tag (or, with `-a`, every local tag of the repository).

    Returns:
        The manifest digests pushed, one per tag.

    Raises:
        RuntimeClientError: a tag does not exist locally, or the registry refused.
    """
    ref = parse_reference(opts.name, config.default_registry, default_tag=None)
    if ref.digest is not None:
        raise UsageError("cannot push a digest reference")
    repo = repository_of(ref)
    if opts.all_tags:
        if ref.tag:
            raise UsageError("tag can't be used with --all-tags/-a")
        tags = sorted({name.rsplit(":", 1)[1] for image in stores.images.list()
                       for name in image.repo_tags if name.rsplit(":", 1)[0] == repo})
        if not tags:
            raise NoSuchImageError(f"An image does not exist locally with the tag: {repo}")
    else:
        tags = [ref.tag or "latest"]
    digests = []
    async with open_session() as session:
        client = client_for(config, ref.host or config.default_registry, session)
        await client.ensure_reachable()
        for tag in tags:
            try:
                image = stores.images.resolve(f"{repo}:{tag}")
            except NoSuchImageError as exc:
                raise RuntimeClientError(
                    f"An image does not exist locally with the tag: {opts.name}"
                ) from exc
            target = Reference(ref.host, ref.name, tag)
            digest, size = await push_image(stores, client, image, target, progress)
            stdout.write(f"{tag}: digest: {digest} size: {size}\n")
            if opts.content_trust:
                # The trust library (and cryptography) loads only when content trust is on.
                from runtime_client.contenttrust import TrustContext

                progress.message("Signing and pushing trust metadata")
                trust = TrustContext(config, env or os.environ, client.host)
                created = await asyncio.to_thread(trust.sign, repo, tag, digest, size)
                if created:
                    progress.message(f"Initialized trust data for {repo}")
                stdout.write(f"Successfully signed {target}\n")
            digests.append(digest)
    return digests


async def push_image(stores: Stores, client: RegistryClient, image: Image, target: Reference,
                     progress: Progress) -> tuple[Digest, int]:
    """Push one image under `target`'s tag; returns the manifest digest and size."""
    progress.message(f"The push refers to repository [{repository_of(target)}]")
    semaphore = asyncio.Semaphore(CONCURRENT_UPLOADS)
    await run_all([
        *(_push_blob(stores, client, target.name, layer.digest, layer.size, semaphore,
                     progress, show=True) for layer in reversed(image.layers)),
        _push_blob(stores, client, target.name, image.id, stores.content.size(image.id),
                   semaphore, progress, show=False),
    ])
    manifest = stores.content.read(image.manifest_digest)
    digest = await _retrying(
        target.tag or "latest",
        lambda: client.put_manifest(target.name, target.tag or "latest", manifest,
                                    image.manifest_media_type),
        lambda delay: progress.message(f"Retrying the manifest in {delay}s"),
    )
    stores.images.add_repo_digest(image.id, f"{repository_of(target)}@{digest}")
    for blob in (image.id, *(layer.digest for layer in image.layers)):
        stores.images.add_blob_source(blob, client.host, target.name)
    return digest, len(manifest)


async def _push_blob(stores: Stores, client: RegistryClient, name: str, digest: Digest,
                     size: int, semaphore: asyncio.Semaphore, progress: Progress,
                     show: bool) -> None:
    short = digest.hex[:12]
    status = progress.status if show else (lambda _id, _text: None)
    status(short, "Preparing")
    async with semaphore:
        status(short, await _retrying(
            digest, lambda: _send_blob(stores, client, name, digest, size, progress, show),
            lambda delay: status(short, f"Retrying in {delay} second{'s' * (delay > 1)}"),
        ))


async def _retrying(what: str, attempt: Callable[[], Awaitable[T]],
                    on_retry: Callable[[int], None]) -> T:
    """Await `attempt()`, again after a growing pause while it fails in a way worth retrying."""
    for number in range(1, ATTEMPTS + 1):
        try:
            return await attempt()
        except Exception as exc:
            if number == ATTEMPTS or not worth_retrying(exc):
                raise
            delay = 2 ** (number - 1)
            logger.info("pushing %s again after: %s", what, exc)
            on_retry(delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def _send_blob(stores: Stores, client: RegistryClient, name: str, digest: Digest,
                     size: int, progress: Progress, show: bool) -> str:
    """Put one blob in the repository; returns the status to show for it."""
    if await client.blob_exists(name, digest):
        return "Layer already exists"
    location = None
    for source in stores.images.blob_sources(digest, client.host):
        if source == name:
            continue
        location = await client.mount_blob(name, digest, source)
        if location is None:
            return f"Mounted from {source}"
        break
    short = digest.hex[:12]
    if show:
        progress.status(short, "Pushing")
    await client.upload_blob(
        name, digest, size, _opener(stores, digest),
        (lambda done: progress.bytes(short, "Pushing", done, size)) if show else _ignore,
        location=location,
    )
    return "Pushed"


def _opener(stores: Stores, digest: Digest) -> Callable[[], AbstractContextManager[BinaryIO]]:
    return lambda: stores.content.open(digest)


def _ignore(_done: int) -> None:
    return None
