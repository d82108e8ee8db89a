"""`image pull [-a] [--platform P] NAME[:TAG|@DIGEST]`: fetch an image into the local stores.

The walk: resolve the reference to a manifest (an index is narrowed to one platform), fetch
the config, then the layers in parallel, each streamed into the content store and verified on
commit, and only then record the image. Every blob is leased first, so a concurrent `rmi` or
`prune` cannot take it away. An interrupted pull records no image; layers it verified stay in
the content store and a partly received layer stays as an ingest, so the next pull reuses the
first and resumes the second with a Range request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from typing import TextIO

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest
from registry.oci.manifest import Descriptor, Manifest, ManifestError, parse_manifest
from registry.oci.reference import Reference
from runtime_client.config import ClientConfig, Stores
from runtime_client.distribution.client import RegistryClient, open_session
from runtime_client.distribution.connect import client_for
from runtime_client.distribution.platforms import Platform, host_platform
from runtime_client.distribution.progress import Progress
from runtime_client.errors import (
    DigestMismatchError,
    NoSuchImageError,
    PlatformNotFoundError,
    RegistryRequestError,
    UsageError,
)
from runtime_client.images.naming import familiar, parse_reference, repository_of
from runtime_client.images.store import Image, Layer
from runtime_client.options import PullOptions
from runtime_client.tasks import run_all
from trust.sigs.verdict import DCT, Verdict

__all__ = ["pull", "pull_reference"]

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENT_DOWNLOADS = 3  # Docker's max-concurrent-downloads default


async def pull(stores: Stores, config: ClientConfig, opts: PullOptions, stdout: TextIO,
               progress: Progress, env: Mapping[str, str] | None = None) -> list[Image]:
    """Pull one reference (or, with `-a`, every tag of its repository).

    Args:
        stores: the local stores.
        config: client configuration (default registry, credentials file, insecure hosts).
        opts: what to pull.
        stdout: receives the pulled names, one per line, as Docker prints them.
        progress: per-layer progress (on stderr).
        env: environment (`BERTH_MAX_CONCURRENT_DOWNLOADS`).

    Returns:
        The images pulled.

    Raises:
        RuntimeClientError: any failure; no image is recorded for a failed reference.
    """
    ref = parse_reference(opts.name, config.default_registry, default_tag=None)
    platform = Platform.parse(opts.platform) if opts.platform else host_platform()
    limit = int((env or os.environ).get("BERTH_MAX_CONCURRENT_DOWNLOADS",
                                        DEFAULT_CONCURRENT_DOWNLOADS))
    async with open_session() as session:
        client = client_for(config, ref.host or config.default_registry, session)
        trust = None
        if opts.content_trust:
            # The trust library (and cryptography) loads only when content trust is on.
            from runtime_client.contenttrust import TrustContext

            trust = TrustContext(config, env or os.environ, client.host)
        if opts.all_tags:
            if ref.tag or ref.digest:
                raise UsageError("tag can't be used with --all-tags/-a")
            tags = (await asyncio.to_thread(trust.signed_tags, repository_of(ref)) if trust
                    else sorted(await client.list_tags(ref.name)))
            refs = [Reference(ref.host, ref.name, tag) for tag in tags]
        else:
            refs = [ref if (ref.tag or ref.digest) else Reference(ref.host, ref.name, "latest")]
        policy = opts.signature_policy
        dct = _dct_check(config, env or os.environ, client.host, ref) if policy else None
        pulled = []
        for one in refs:
            target = one
            if trust is not None and one.digest is None:
                digest = await asyncio.to_thread(trust.signed_digest, repository_of(one),
                                                 one.tag or "latest")
                target = Reference(one.host, one.name, None, digest)
                progress.message(f"Pull (1 of 1): {one}@{digest}")
            if policy is not None:
                # Verification and signing code load only when a policy applies.
                from runtime_client.ops.verify import verified_digest

                digest = await verified_digest(client, target, policy,
                                               dt.datetime.now(dt.UTC), dct)
                if target.digest is None:
                    target = Reference(one.host, one.name, None, digest)
                progress.message(f"Verified signatures of {one}@{digest}")
            image = await pull_reference(stores, client, target, platform, progress, limit,
                                         strict_platform=opts.platform is not None)
            if target is not one and one.tag:
                stores.images.tag(image.id, f"{repository_of(one)}:{one.tag}")
                progress.message(f"Tagging {target} as {one}")
            stdout.write(f"{one}\n")
            pulled.append(image)
    return pulled


def _dct_check(config: ClientConfig, env: Mapping[str, str], host: str,
               ref: Reference) -> Callable[[str], Awaitable[Verdict | None]]:
    """For a policy that counts `dct`: whether a signed tag of the repository names a digest."""

    async def check(digest: str) -> Verdict | None:
        from runtime_client.contenttrust import TrustContext, TrustVerificationError
        from trust.client.updater import list_targets

        gun = repository_of(ref)
        trust = TrustContext(config, env, host)
        try:
            trusted = await asyncio.to_thread(trust.refresh, gun)
        except TrustVerificationError as exc:
            logger.info("no Docker Content Trust verdict for %s: %s", gun, exc)
            return None
        for targets in list_targets(trusted).values():
            if any(target.digest == digest for target in targets):
                return Verdict(DCT, digest, gun, "tuf")
        return None

    return check


async def pull_reference(stores: Stores, client: RegistryClient, ref: Reference,
                         platform: Platform, progress: Progress, concurrency: int,
                         strict_platform: bool = False) -> Image:
    """Pull one tag or digest of a repository from `client`'s registry.

    With `strict_platform`, a single-platform image must be of `platform` (as Docker checks
    an explicit `--platform`); otherwise only indexes are narrowed to it.
    """
    default = stores.images.default_registry
    repo = repository_of(ref)
    progress.message(f"{ref.reference}: Pulling from {ref.name}")
    data, media_type, top_digest = await client.get_manifest(ref.name, ref.reference)
    manifest_bytes, manifest_type = data, _media_type(data, media_type)
    if manifest_type in mt.INDEX_TYPES:
        child = _select_platform(_parse(manifest_bytes, manifest_type), platform)
        manifest_bytes, child_type, _ = await client.get_manifest(ref.name, str(child.digest))
        manifest_type = _media_type(manifest_bytes, child_type or child.media_type)
    manifest = _parse(manifest_bytes, manifest_type)
    if manifest.config is None or manifest.is_index:
        raise RegistryRequestError(f"{ref}: not an image manifest ({manifest_type})")
    images = stores.images
    with images.lease() as lease:
        lease.add(manifest.config.digest, *(layer.digest for layer in manifest.layers))
        config_bytes = await _config(stores, client, ref.name, manifest.config)
        diff_ids = _diff_ids(config_bytes, len(manifest.layers))
        if strict_platform:
            _check_platform(ref, config_bytes, platform)
        existed = _exists(stores, manifest.config.digest)
        semaphore = asyncio.Semaphore(max(1, concurrency))
        await run_all(_fetch_layer(stores, client, ref.name, layer, semaphore, progress)
                      for layer in manifest.layers)
        layers = [Layer(d.digest, d.media_type, d.size, diff_id)
                  for d, diff_id in zip(manifest.layers, diff_ids, strict=True)]
        image = images.create(
            config_bytes, layers, manifest=manifest_bytes, manifest_media_type=manifest_type,
            config_media_type=manifest.config.media_type,
            tags=[f"{repo}:{ref.tag}"] if ref.tag else [],
            repo_digests=[f"{repo}@{top_digest}"],
        )
    for descriptor in manifest.blobs:
        images.add_blob_source(descriptor.digest, client.host, ref.name)
    progress.message(f"Digest: {top_digest}")
    shown = familiar(f"{repo}:{ref.tag}" if ref.tag else f"{repo}@{top_digest}", default)
    if existed:
        progress.message(f"Status: Image is up to date for {shown}")
    else:
        progress.message(f"Status: Downloaded newer image for {shown}")
    return image


def _media_type(data: bytes, header_type: str) -> str:
    """The manifest's own `mediaType` wins over a generic Content-Type header."""
    try:
        declared = json.loads(data).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    if declared in mt.MANIFEST_TYPES:
        return str(declared)
    if header_type in mt.MANIFEST_TYPES:
        return header_type
    return mt.OCI_MANIFEST


def _parse(data: bytes, media_type: str) -> Manifest:
    try:
        return parse_manifest(data, media_type)
    except ManifestError as exc:
        raise RegistryRequestError(f"invalid manifest: {exc}") from exc


def _select_platform(index: Manifest, platform: Platform) -> Descriptor:
    for descriptor in index.manifests:
        if descriptor.media_type in mt.IMAGE_TYPES and platform.matches(descriptor.platform):
            return descriptor
    raise PlatformNotFoundError(
        f"no matching manifest for {platform} in the manifest list entries"
    )


def _check_platform(ref: Reference, config_bytes: bytes, platform: Platform) -> None:
    config = json.loads(config_bytes)
    actual = {key: config.get(key) for key in ("os", "architecture", "variant")}
    if not platform.matches(actual):
        shown = "/".join(filter(None, actual.values()))
        raise PlatformNotFoundError(
            f"image with reference {ref} was found but does not match the specified "
            f"platform: wanted {platform}, actual: {shown}"
        )


def _exists(stores: Stores, image_id: Digest) -> bool:
    try:
        stores.images.get(image_id)
    except NoSuchImageError:
        return False
    return True


async def _config(stores: Stores, client: RegistryClient, name: str,
                  descriptor: Descriptor) -> bytes:
    if stores.content.exists(descriptor.digest):
        return stores.content.read(descriptor.digest)
    data = await client.get_blob(name, descriptor.digest)
    stores.content.put(data, descriptor.digest)
    return data


def _diff_ids(config_bytes: bytes, layer_count: int) -> list[Digest]:
    try:
        raw = json.loads(config_bytes)["rootfs"]["diff_ids"]
        diff_ids = [Digest.parse(d) for d in raw]
    except (ValueError, KeyError, TypeError) as exc:
        raise RegistryRequestError(f"image config has no valid rootfs.diff_ids: {exc}") from exc
    if len(diff_ids) != layer_count:
        raise RegistryRequestError(
            f"image config lists {len(diff_ids)} layers, the manifest {layer_count}"
        )
    return diff_ids


async def _fetch_layer(stores: Stores, client: RegistryClient, name: str, layer: Descriptor,
                       semaphore: asyncio.Semaphore, progress: Progress) -> None:
    short = layer.digest.hex[:12]
    content = stores.content
    if content.exists(layer.digest):
        progress.status(short, "Already exists")
        return
    progress.status(short, "Pulling fs layer")
    async with semaphore:
        # A resumed ingest may hold bytes from a bad earlier transfer; if the result does
        # not verify, the ingest is gone (commit discards it) and one fresh try follows.
        resumed = await _download(stores, client, name, layer, progress)
        if resumed is not None:
            await _download(stores, client, name, layer, progress)
    progress.status(short, "Pull complete")


async def _download(stores: Stores, client: RegistryClient, name: str, layer: Descriptor,
                    progress: Progress) -> DigestMismatchError | None:
    """Fetch and commit one layer; returns the mismatch of a resumed ingest (else raises)."""
    short = layer.digest.hex[:12]
    content = stores.content
    # Opening blocks while another berth process downloads the same layer.
    writer = await asyncio.to_thread(content.writer, f"pull-{layer.digest}")
    try:
        if content.exists(layer.digest):
            return None
        resumed_from = writer.offset
        if resumed_from:
            logger.info("resuming %s at byte %d", layer.digest, resumed_from)
        await client.fetch_blob(
            name, layer.digest, writer, layer.size,
            lambda done: progress.bytes(short, "Downloading", done, layer.size),
        )
        progress.status(short, "Verifying Checksum")
        try:
            await asyncio.to_thread(writer.commit, layer.digest, layer.size)
        except DigestMismatchError as exc:
            if not resumed_from:
                raise
            logger.warning("resumed download of %s did not verify; starting over", layer.digest)
            return exc
        progress.status(short, "Download complete")
        return None
    finally:
        writer.close()
