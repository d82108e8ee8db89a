"""The local image store: names -> images, each image a config blob plus ordered layer blobs.

Scope: image records, tags, repo digests, leases and garbage collection of blobs no image
uses. Blob bytes live in `runtime_client.content.store.ContentStore`; this module only reads
configs from it and deletes what nothing references any more. It knows nothing of registries.

An image's ID is the digest of its config blob (as in Docker). Names are stored canonical,
with the registry host (`runtime_client.images.naming`).

API (the container half, issue 6, calls these)::

    images = ImageStore(root, content, default_registry="docker.io")
    img = images.resolve("busybox")            # name[:tag], name@digest, full ID, or ID prefix
    img.id                 # Digest of the config blob ("sha256:..." via str())
    img.config             # parsed config JSON: dict (config["config"]["Cmd"], "Env", ...)
    img.layers             # tuple[Layer]: base first; Layer(digest, media_type, size, diff_id)
    content.open(layer.digest)                 # the (maybe compressed) layer blob
    runtime_client.images.layers.open_layer_tar(content, layer)  # a tarfile of the layer
    img.repo_tags / img.repo_digests           # canonical names; naming.familiar() to show
    images.create(config_bytes, layers, tags=["host/repo:tag"])  # commit / import / load:
        # layer blobs must already be committed to `content`; the config is stored here, a
        # manifest is built (OCI unless every layer has a Docker media type). Returns Image.
    images.tag(img.id, "host/repo:tag") / images.untag("host/repo:tag")
    images.remove(img.id) -> list[Digest]      # deletes the record; returns blobs freed
    images.list() / images.get(id) / images.lease(digests) / images.collect_garbage()

Concurrency: every write is one `BEGIN IMMEDIATE` transaction, and blob deletion happens inside
the transaction that found the blob unreferenced and unleased, so an operation that first
takes a lease (pull, load) can never see a blob vanish under it.
"""

from __future__ import annotations

import builtins
import json
import logging
import tarfile
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.dialects import sqlite

from registry.oci import mediatypes as mt
from registry.oci.digest import Digest, DigestError
from registry.oci.reference import Reference
from runtime_client.content.store import ContentStore
from runtime_client.errors import ContentError, NoSuchImageError, RuntimeClientError
from runtime_client.images import db
from runtime_client.images.diffsize import layer_diff_size
from runtime_client.images.naming import is_image_id, parse_reference, repository_of

__all__ = ["Image", "ImageStore", "Layer"]

logger = logging.getLogger(__name__)

LEASE_SECONDS = 6 * 3600  # a crashed pull's lease lapses after this

_IMAGES = db.IMAGES
_LAYERS = db.IMAGE_LAYERS


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of an image: its blob (maybe compressed) and its uncompressed tar's digest."""

    digest: Digest
    media_type: str
    size: int
    diff_id: Digest


@dataclass(frozen=True, slots=True)
class Image:
    """A local image, as stored; `config` is the parsed config blob."""

    id: Digest
    config: dict[str, Any]
    layers: tuple[Layer, ...]
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    created: str
    size: int
    manifest_digest: Digest
    manifest_media_type: str
    config_media_type: str
    added_at: float

    @property
    def short_id(self) -> str:
        """The 12-hex-digit ID Docker prints in tables."""
        return self.id.hex[:12]


class ImageStore:
    """Image records in `<root>/images.db`, blobs in a `ContentStore`.

    Args:
        root: the berth root directory.
        content: the content store holding configs, manifests and layers.
        default_registry: host for names typed without one.
    """

    def __init__(self, root: Path, content: ContentStore, default_registry: str) -> None:
        self.content = content
        self.default_registry = default_registry
        self._engine = db.open_engine(Path(root))

    def close(self) -> None:
        """Release database connections."""
        self._engine.dispose()

    # -- reading ---------------------------------------------------------------------------

    def get(self, image_id: Digest) -> Image:
        """The image with this exact ID.

        Raises:
            NoSuchImageError: no such image.
        """
        with db.read(self._engine) as conn:
            image = self._load(conn, str(image_id))
        if image is None:
            raise NoSuchImageError(str(image_id))
        return image

    def list(self) -> list[Image]:
        """Every image, newest first."""
        with db.read(self._engine) as conn:
            ids = conn.scalars(select(db.IMAGES.c.id).order_by(db.IMAGES.c.created.desc())).all()
            images = [self._load(conn, image_id) for image_id in ids]
        return [image for image in images if image is not None]

    def resolve(self, name: str) -> Image:
        """Find an image by `name[:tag]`, `name@digest`, full ID or unambiguous ID prefix.

        Raises:
            NoSuchImageError: nothing matches (the message names what was asked for).
            RuntimeClientError: an ID prefix matches several images.
        """
        with db.read(self._engine) as conn:
            image_id = self._find_id(conn, name)
            image = self._load(conn, image_id) if image_id else None
        if image is None:
            shown = name if (":" in name or "@" in name or is_image_id(name)) else f"{name}:latest"
            raise NoSuchImageError(shown)
        return image

    def layer_sizes(self, image: Image) -> builtins.list[int]:
        """The unpacked size of each layer of the image, base first (dockerd's figures)."""
        sizes = self._diff_sizes({str(layer.diff_id): layer for layer in image.layers})
        return [sizes[str(layer.diff_id)] for layer in image.layers]

    def unpacked_sizes(self, images: Iterable[Image]) -> dict[Digest, int]:
        """Each image's unpacked size: what `docker images` shows as SIZE (the sum of its
        layers' unpacked sizes; a layer shared by two images counts in both)."""
        images = builtins.list(images)
        sizes = self._diff_sizes(
            {str(layer.diff_id): layer for image in images for layer in image.layers}
        )
        return {
            image.id: sum(sizes[str(layer.diff_id)] for layer in image.layers) for image in images
        }

    def _diff_sizes(self, layers: dict[str, Layer]) -> dict[str, int]:
        """diff ID -> unpacked size for `layers`; sizes never asked before are read from the
        layer blobs once and recorded."""
        if not layers:
            return {}
        with db.read(self._engine) as conn:
            rows = conn.execute(
                select(db.LAYER_SIZES.c.diff_id, db.LAYER_SIZES.c.size).where(
                    db.LAYER_SIZES.c.diff_id.in_(builtins.list(layers))
                )
            ).all()
        sizes = {diff_id: int(size) for diff_id, size in rows}
        missing, unreadable = {}, {}
        for diff_id, layer in layers.items():
            if diff_id in sizes:
                continue
            try:
                with self.content.open(layer.digest) as blob:
                    missing[diff_id] = layer_diff_size(blob)
            except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                # A layer the standard library cannot read (zstd): its blob's size will do.
                logger.debug("layer %s: no unpacked size (%s)", layer.digest, exc)
                unreadable[diff_id] = layer.size
        if missing:
            with db.write(self._engine) as conn:
                conn.execute(
                    sqlite.insert(db.LAYER_SIZES).on_conflict_do_nothing(),
                    [{"diff_id": k, "size": v} for k, v in missing.items()],
                )
        return sizes | missing | unreadable

    def _find_id(self, conn: Connection, name: str) -> str | None:
        if is_image_id(name):
            full = name if name.startswith("sha256:") else f"sha256:{name}"
            if conn.scalar(select(db.IMAGES.c.id).where(db.IMAGES.c.id == full)):
                return full
        try:
            ref = parse_reference(name, self.default_registry)
        except RuntimeClientError:
            ref = None
        if ref is not None:
            found = self._find_by_reference(conn, ref)
            if found:
                return found
        prefix = name.removeprefix("sha256:")
        if prefix and all(c in "0123456789abcdef" for c in prefix):
            matches = conn.scalars(
                select(db.IMAGES.c.id).where(db.IMAGES.c.id.startswith(f"sha256:{prefix}"))
            ).all()
            if len(matches) > 1:
                raise RuntimeClientError(f"ambiguous image ID prefix {prefix!r}")
            if matches:
                return matches[0]
        return None

    def _find_by_reference(self, conn: Connection, ref: Reference) -> str | None:
        repo = repository_of(ref)
        if ref.digest is not None:
            found = conn.scalar(
                select(db.REPO_DIGESTS.c.image_id).where(
                    db.REPO_DIGESTS.c.name == f"{repo}@{ref.digest}"
                )
            )
            if found:
                return found
            # A digest reference may also name the config (image ID) of a repo's image.
            return conn.scalar(select(db.IMAGES.c.id).where(db.IMAGES.c.id == str(ref.digest)))
        return conn.scalar(select(db.TAGS.c.image_id).where(db.TAGS.c.name == f"{repo}:{ref.tag}"))

    def _load(self, conn: Connection, image_id: str) -> Image | None:
        row = conn.execute(select(_IMAGES).where(_IMAGES.c.id == image_id)).first()
        if row is None:
            return None
        layer_rows = conn.execute(
            select(_LAYERS)
            .where(db.IMAGE_LAYERS.c.image_id == image_id)
            .order_by(db.IMAGE_LAYERS.c.position)
        ).all()
        tags = conn.scalars(
            select(db.TAGS.c.name).where(db.TAGS.c.image_id == image_id).order_by(db.TAGS.c.name)
        ).all()
        digests = conn.scalars(
            select(db.REPO_DIGESTS.c.name)
            .where(db.REPO_DIGESTS.c.image_id == image_id)
            .order_by(db.REPO_DIGESTS.c.name)
        ).all()
        digest = Digest.parse(image_id)
        try:
            config = json.loads(self.content.read(digest))
        except ContentError:
            logger.warning("image %s has lost its config blob", image_id)
            config = {}
        return Image(
            id=digest,
            config=config,
            layers=tuple(
                Layer(Digest.parse(r.digest), r.media_type, r.size, Digest.parse(r.diff_id))
                for r in layer_rows
            ),
            repo_tags=tuple(tags),
            repo_digests=tuple(digests),
            created=row.created,
            size=row.size,
            manifest_digest=Digest.parse(row.manifest_digest),
            manifest_media_type=row.manifest_media_type,
            config_media_type=row.config_media_type,
            added_at=row.added_at,
        )

    # -- writing ---------------------------------------------------------------------------

    def create(
        self,
        config: bytes,
        layers: Sequence[Layer],
        *,
        manifest: bytes | None = None,
        manifest_media_type: str | None = None,
        config_media_type: str | None = None,
        tags: Iterable[str] = (),
        repo_digests: Iterable[str] = (),
    ) -> Image:
        """Record an image whose layer blobs are already in the content store.

        Args:
            config: the exact config JSON bytes (their digest becomes the image ID).
            layers: base layer first; each blob must already be committed.
            manifest: the exact manifest bytes a registry served (None: build one).
            manifest_media_type: media type of `manifest` (required with it).
            config_media_type: media type for the config descriptor of a built manifest.
            tags: canonical `host/repo:tag` names to point at this image (moved if elsewhere).
            repo_digests: canonical `host/repo@digest` names.

        Returns:
            The stored image. When an image with the same ID exists, its layers and manifest
            are kept and only the names are added.

        Raises:
            ContentError: a layer blob is missing, or the config's diff_ids disagree.
        """
        try:
            parsed = json.loads(config)
        except ValueError as exc:
            raise ContentError(f"image config is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ContentError("image config must be a JSON object")
        diff_ids = (parsed.get("rootfs") or {}).get("diff_ids")
        if diff_ids is not None and list(diff_ids) != [str(layer.diff_id) for layer in layers]:
            raise ContentError("the config's rootfs.diff_ids do not match the layers")
        for layer in layers:
            if not self.content.exists(layer.digest):
                raise ContentError(f"layer {layer.digest} is not in the content store")
        config_digest = self.content.put(config)
        if manifest is None:
            manifest, manifest_media_type, config_media_type = _build_manifest(
                config_digest, len(config), layers, config_media_type
            )
        elif manifest_media_type is None:
            raise ValueError("manifest_media_type is required with manifest")
        if config_media_type is None:
            config_media_type = (
                mt.DOCKER_CONFIG if manifest_media_type == mt.DOCKER_MANIFEST else mt.OCI_CONFIG
            )
        manifest_digest = self.content.put(manifest)
        image_id = str(config_digest)
        with db.write(self._engine) as conn:
            exists = conn.scalar(select(_IMAGES.c.id).where(_IMAGES.c.id == image_id))
            if not exists:
                conn.execute(
                    _IMAGES.insert().values(
                        id=image_id,
                        manifest_digest=str(manifest_digest),
                        manifest_media_type=manifest_media_type,
                        config_media_type=config_media_type,
                        created=str(parsed.get("created") or ""),
                        size=len(config) + sum(layer.size for layer in layers),
                        added_at=time.time(),
                    )
                )
                if layers:
                    conn.execute(
                        _LAYERS.insert(),
                        [
                            {
                                "image_id": image_id,
                                "position": position,
                                "digest": str(layer.digest),
                                "media_type": layer.media_type,
                                "size": layer.size,
                                "diff_id": str(layer.diff_id),
                            }
                            for position, layer in enumerate(layers)
                        ],
                    )
            for tag in tags:
                _point(conn, db.TAGS, tag, image_id)
            for repo_digest in repo_digests:
                _point(conn, db.REPO_DIGESTS, repo_digest, image_id)
        return self.get(config_digest)

    def tag(self, image_id: Digest, name: str) -> None:
        """Point the canonical `host/repo:tag` at an image (moving it from any other)."""
        with db.write(self._engine) as conn:
            if not conn.scalar(select(_IMAGES.c.id).where(_IMAGES.c.id == str(image_id))):
                raise NoSuchImageError(str(image_id))
            _point(conn, db.TAGS, name, str(image_id))

    def add_repo_digest(self, image_id: Digest, name: str) -> None:
        """Record that `host/repo@digest` serves this image."""
        with db.write(self._engine) as conn:
            _point(conn, db.REPO_DIGESTS, name, str(image_id))

    def untag(self, name: str) -> Digest | None:
        """Remove a canonical tag or repo digest name; returns the image it pointed at."""
        table = db.REPO_DIGESTS if "@" in name else db.TAGS
        with db.write(self._engine) as conn:
            image_id = conn.scalar(select(table.c.image_id).where(table.c.name == name))
            conn.execute(delete(table).where(table.c.name == name))
        return Digest.parse(image_id) if image_id else None

    def remove(self, image_id: Digest) -> builtins.list[Digest]:
        """Delete an image record and every blob of it that no other image (or lease) uses.

        Returns:
            The blobs deleted from the content store.
        """
        key = str(image_id)
        with db.write(self._engine) as conn:
            row = conn.execute(select(_IMAGES).where(_IMAGES.c.id == key)).first()
            if row is None:
                raise NoSuchImageError(key)
            candidates = {key, row.manifest_digest}
            candidates.update(
                conn.scalars(select(_LAYERS.c.digest).where(_LAYERS.c.image_id == key)).all()
            )
            for table in (db.TAGS, db.REPO_DIGESTS, db.IMAGE_LAYERS):
                conn.execute(delete(table).where(table.c.image_id == key))
            conn.execute(delete(_IMAGES).where(_IMAGES.c.id == key))
            return self._delete_unreferenced(conn, candidates)

    def collect_garbage(self) -> builtins.list[Digest]:
        """Delete every blob no image references and no live lease holds; returns them."""
        with db.write(self._engine) as conn:
            conn.execute(delete(db.LEASES).where(db.LEASES.c.expires_at < time.time()))
            candidates = {str(digest) for digest, _size in self.content.walk()}
            return self._delete_unreferenced(conn, candidates)

    def _delete_unreferenced(self, conn: Connection, candidates: set[str]) -> builtins.list[Digest]:
        used: set[str] = set(conn.scalars(select(_IMAGES.c.id)).all())
        used.update(conn.scalars(select(_IMAGES.c.manifest_digest)).all())
        used.update(conn.scalars(select(_LAYERS.c.digest)).all())
        used.update(
            conn.scalars(
                select(db.LEASES.c.digest).where(db.LEASES.c.expires_at >= time.time())
            ).all()
        )
        freed = []
        for name in sorted(candidates - used):
            try:
                digest = Digest.parse(name)
            except DigestError:
                continue
            if self.content.delete(digest):
                freed.append(digest)
            conn.execute(delete(db.BLOB_SOURCES).where(db.BLOB_SOURCES.c.digest == name))
        return freed

    # -- leases and blob sources -----------------------------------------------------------

    @contextmanager
    def lease(self) -> Iterator[Lease]:
        """Protect blobs from garbage collection while an operation uses them.

        Add each digest with `lease.add(d)` BEFORE checking whether the blob exists; the
        lease is dropped when the block exits (a killed process's lease lapses by itself).
        """
        lease = Lease(self, uuid.uuid4().hex)
        try:
            yield lease
        finally:
            with db.write(self._engine) as conn:
                conn.execute(delete(db.LEASES).where(db.LEASES.c.lease == lease.id))

    def _add_lease(self, lease_id: str, digests: Iterable[Digest]) -> None:
        rows = [
            {"lease": lease_id, "digest": str(d), "expires_at": time.time() + LEASE_SECONDS}
            for d in digests
        ]
        if not rows:
            return
        with db.write(self._engine) as conn:
            for row in rows:
                conn.execute(
                    delete(db.LEASES).where(
                        db.LEASES.c.lease == lease_id, db.LEASES.c.digest == row["digest"]
                    )
                )
            conn.execute(db.LEASES.insert(), rows)

    def add_blob_source(self, digest: Digest, host: str, repository: str) -> None:
        """Remember that registry `host` holds `digest` in `repository`."""
        with db.write(self._engine) as conn:
            conn.execute(
                delete(db.BLOB_SOURCES).where(
                    db.BLOB_SOURCES.c.digest == str(digest),
                    db.BLOB_SOURCES.c.host == host,
                    db.BLOB_SOURCES.c.repository == repository,
                )
            )
            conn.execute(
                db.BLOB_SOURCES.insert().values(
                    digest=str(digest), host=host, repository=repository
                )
            )

    def blob_sources(self, digest: Digest, host: str) -> builtins.list[str]:
        """Repositories of registry `host` known to hold `digest`."""
        with db.read(self._engine) as conn:
            return list(
                conn.scalars(
                    select(db.BLOB_SOURCES.c.repository).where(
                        db.BLOB_SOURCES.c.digest == str(digest), db.BLOB_SOURCES.c.host == host
                    )
                ).all()
            )


class Lease:
    """A handle on one lease; see `ImageStore.lease`."""

    def __init__(self, store: ImageStore, lease_id: str) -> None:
        self._store = store
        self.id = lease_id

    def add(self, *digests: Digest) -> None:
        """Protect these blobs until the lease ends."""
        self._store._add_lease(self.id, digests)


def _point(conn: Connection, table: Table, name: str,
           image_id: str) -> None:
    conn.execute(delete(table).where(table.c.name == name))
    conn.execute(table.insert().values(name=name, image_id=image_id))


_DOCKER_LAYER_TYPES = frozenset(
    {mt.DOCKER_LAYER, mt.DOCKER_LAYER_FOREIGN, "application/vnd.docker.image.rootfs.diff.tar"}
)


def _build_manifest(
    config_digest: Digest, config_size: int, layers: Sequence[Layer], config_media_type: str | None
) -> tuple[bytes, str, str]:
    """A manifest for locally made images: Docker schema 2 when every layer is a Docker
    type (what Docker itself would push), OCI otherwise."""
    docker = bool(layers) and all(layer.media_type in _DOCKER_LAYER_TYPES for layer in layers)
    media_type = mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST
    config_type = config_media_type or (mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG)
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": str(config_digest), "size": config_size},
        "layers": [
            {"mediaType": layer.media_type, "digest": str(layer.digest), "size": layer.size}
            for layer in layers
        ],
    }
    return json.dumps(doc, indent=3).encode(), media_type, config_type
