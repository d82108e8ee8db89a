"""Read models of stored images for the web interface: a tag's manifest, config and referrers.

Scope: turning a repository's stored manifest and its image config into immutable values
(platforms, layers with the history step that made each, the run configuration) and listing
what refers to a manifest. Not who may read them (callers check the repository's grants first)
nor any rendering.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from registry.db.queries import ReferrerRecord
from registry.oci import mediatypes as mt
from registry.oci.digest import Digest, DigestError
from registry.oci.manifest import ManifestError, parse_manifest
from registry.services.manifests import ManifestService
from registry.storage.driver.base import StorageDriver, StorageDriverError
from registry.storage.paths import blob_path

logger = logging.getLogger(__name__)

__all__ = ["ImageConfig", "ImageDetail", "ImageService", "Layer", "Platform", "ReferrerNode"]

MAX_CONFIG_BYTES = 4 * 1024 * 1024  # image configs are small; a larger blob is not shown
MAX_REFERRER_DEPTH = 3  # signatures of SBOMs of ...: deep enough, and bounded


@dataclass(frozen=True, slots=True)
class Layer:
    digest: str
    media_type: str
    size: int  # compressed bytes
    created_by: str  # the history step that made it ("" when unknown)


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The run configuration from an image config (`config` of the OCI image spec)."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    ports: tuple[str, ...] = ()
    user: str = ""
    workdir: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    created: str = ""


@dataclass(frozen=True, slots=True)
class Platform:
    """One entry of an index: the platform and the child manifest's digest and size."""

    name: str  # "os/arch[/variant]", "" when not given
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ImageDetail:
    """One manifest as the tag page shows it."""

    digest: str
    media_type: str
    platforms: tuple[Platform, ...]  # an index's children; empty for an image
    platform: str  # an image's own "os/arch[/variant]"
    layers: tuple[Layer, ...]
    empty_steps: tuple[str, ...]  # history steps that made no layer (ENV, CMD, ...)
    config: ImageConfig | None
    artifact_type: str | None

    @property
    def is_index(self) -> bool:
        return bool(self.platforms)

    @property
    def size(self) -> int:
        return sum(layer.size for layer in self.layers) + sum(p.size for p in self.platforms)


@dataclass(frozen=True, slots=True)
class ReferrerNode:
    """A referrer and what refers to it in turn."""

    record: ReferrerRecord
    children: tuple[ReferrerNode, ...]


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return ()


def platform_name(raw: dict[str, Any]) -> str:
    os_name, arch = raw.get("os"), raw.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str):
        return ""
    variant = raw.get("variant")
    return f"{os_name}/{arch}/{variant}" if isinstance(variant, str) else f"{os_name}/{arch}"


def _run_config(doc: dict[str, Any]) -> ImageConfig:
    raw = doc.get("config") if isinstance(doc.get("config"), dict) else {}
    assert isinstance(raw, dict)
    labels = raw.get("Labels") if isinstance(raw.get("Labels"), dict) else {}
    ports = raw.get("ExposedPorts") if isinstance(raw.get("ExposedPorts"), dict) else {}
    return ImageConfig(
        entrypoint=_strings(raw.get("Entrypoint")),
        cmd=_strings(raw.get("Cmd")),
        env=_strings(raw.get("Env")),
        ports=tuple(sorted(str(port) for port in ports or {})),
        user=str(raw.get("User") or ""),
        workdir=str(raw.get("WorkingDir") or ""),
        labels=tuple(sorted((str(k), str(v)) for k, v in (labels or {}).items())),
        created=str(doc.get("created") or ""),
    )


def _history(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The `created_by` of history steps that made layers, and of those that did not."""
    made, empty = [], []
    history = doc.get("history") if isinstance(doc.get("history"), list) else []
    for step in history or []:
        if not isinstance(step, dict):
            continue
        text = str(step.get("created_by") or step.get("comment") or "")
        (empty if step.get("empty_layer") else made).append(text)
    return made, empty


def _artifact_type(effective: str | None) -> str | None:
    """An artifact's type; None for a plain image (whose "type" is just its config's)."""
    return None if effective in (mt.OCI_CONFIG, mt.DOCKER_CONFIG) else effective


class ImageService:
    """Describes stored images of a repository.

    Args:
        manifests: the manifest service the registry API uses.
        driver: blob storage, for image configs.
    """

    def __init__(self, manifests: ManifestService, driver: StorageDriver) -> None:
        self.manifests = manifests
        self.driver = driver

    async def describe(self, repository: str, reference: Digest | str) -> ImageDetail:
        """The manifest a tag or digest names, with its config when it is an image.

        Raises:
            ManifestUnknownError: no such tag or digest in the repository.
        """
        record = await self.manifests.get(repository, reference)
        try:
            manifest = parse_manifest(record.payload, record.media_type)
        except ManifestError:
            return ImageDetail(record.digest, record.media_type, (), "", (), (), None, None)
        if manifest.is_index:
            platforms = tuple(
                Platform(platform_name(d.platform or {}), str(d.digest), d.media_type, d.size)
                for d in manifest.manifests
            )
            return ImageDetail(
                record.digest,
                record.media_type,
                platforms,
                "",
                (),
                (),
                None,
                manifest.effective_artifact_type(),
            )
        doc = await self._config(manifest.config.digest) if manifest.config else {}
        made, empty = _history(doc)
        layers = tuple(
            Layer(
                str(d.digest),
                d.media_type,
                d.size,
                made[index] if index < len(made) else "",
            )
            for index, d in enumerate(manifest.layers)
        )
        return ImageDetail(
            record.digest,
            record.media_type,
            (),
            platform_name(doc),
            layers,
            tuple(empty),
            _run_config(doc) if doc else None,
            _artifact_type(manifest.effective_artifact_type()),
        )

    async def referrers(self, repository: str, digest: str) -> tuple[ReferrerNode, ...]:
        """What refers to `digest` (signatures, SBOMs, attestations), as a bounded tree."""
        return await self._referrers(repository, digest, MAX_REFERRER_DEPTH, set())

    async def _referrers(
        self, repository: str, digest: str, depth: int, seen: set[str]
    ) -> tuple[ReferrerNode, ...]:
        try:
            subject = Digest.parse(digest)
        except DigestError:
            return ()
        nodes = []
        for record in await self.manifests.referrers(repository, subject, None):
            if record.digest in seen:
                continue
            seen.add(record.digest)
            children = (
                await self._referrers(repository, record.digest, depth - 1, seen)
                if depth > 1
                else ()
            )
            nodes.append(ReferrerNode(record, children))
        return tuple(nodes)

    async def _config(self, digest: Digest) -> dict[str, Any]:
        path = blob_path(digest)
        try:
            if (await self.driver.stat(path)).size > MAX_CONFIG_BYTES:
                return {}
            doc = json.loads(await self.driver.get_content(path))
        except (StorageDriverError, ValueError):
            logger.warning("image config %s is unreadable", digest)
            return {}
        return doc if isinstance(doc, dict) else {}
