"""The library's composition root: the stores, snapshotter, runtime and network backend of one
berth root, plus the seam to the image half (`ImageResolver`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from runtime_client.layout import Layout
from runtime_client.network.leases import Leases
from runtime_client.network.netavark import Netavark, NetworkBackend
from runtime_client.network.store import NetworkStore
from runtime_client.runtime.runc import DEFAULT_RUNTIME, OciRuntime, runtime_path
from runtime_client.runtime.store import ContainerStore
from runtime_client.snapshots.overlay import OverlaySnapshotter
from runtime_client.unpack import LayerSource
from runtime_client.volumes.store import VolumeStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedImage:
    """An image as the container half needs it."""

    id: str  # "sha256:<config digest>"
    reference: str  # the name the user gave, normalised
    config: dict[str, Any]  # the OCI image config JSON (architecture, os, config, rootfs, ...)
    layers: Sequence[LayerSource]
    handle: Any = None  # the image store's own record, for create_image

    @property
    def run_config(self) -> dict[str, Any]:
        """The image's `config` object (Cmd, Entrypoint, Env, WorkingDir, User, ExposedPorts)."""
        return self.config.get("config") or {}


@dataclass(frozen=True)
class ImageSummary:
    """An image as `system df` and `system prune` see it."""

    id: str
    size: int  # bytes of config and layer blobs
    tags: tuple[str, ...]
    created: str = ""  # RFC 3339, from the image config
    labels: Mapping[str, str] = field(default_factory=dict)  # the config's Labels


class ImageResolver(Protocol):
    """What containers need from the local image store."""

    def resolve(self, reference: str) -> ResolvedImage:
        """The image a name, ID or ID prefix refers to; raises NoSuchImageError."""
        ...

    def create_image(self, config: dict[str, Any], parent: ResolvedImage | None,
                     layer_blob: Path | None, reference: str | None) -> str:
        """Store a new image: `parent`'s layers plus an optional new gzip layer blob.

        `config` is the complete new image config (its rootfs.diff_ids already include the new
        layer). Returns the new image ID and tags it as `reference` when given.
        """
        ...

    def summaries(self) -> list[ImageSummary]:
        """Every local image (for `system prune` and `system df`)."""
        ...

    def remove(self, image_id: str) -> int:
        """Remove an image and its now-unused blobs; returns the bytes freed."""
        ...


@dataclass
class Context:
    """Everything the container operations work with, for one berth root."""

    layout: Layout
    containers: ContainerStore
    networks: NetworkStore
    snapshots: OverlaySnapshotter
    network_backend: NetworkBackend
    images: ImageResolver
    leases: Leases = field(default_factory=Leases)  # shared by every root on the host
    volumes: VolumeStore = field(init=False)

    def __post_init__(self) -> None:
        self.volumes = VolumeStore(self.layout)

    @classmethod
    def open(cls, root: Path, images: ImageResolver) -> Context:
        """Open (creating directories as needed) the berth root at `root`."""
        layout = Layout(root)
        for d in (layout.root, layout.locks, layout.volumes):
            d.mkdir(parents=True, exist_ok=True)
        return cls(layout, ContainerStore(layout), NetworkStore(layout),
                   OverlaySnapshotter(layout.snapshots), Netavark(layout.netavark_config),
                   images)

    def runtime(self, name: str = DEFAULT_RUNTIME) -> OciRuntime:
        """The OCI runtime `name` with its state directory under the berth run dir."""
        return OciRuntime(runtime_path(name), self.layout.runc_root)
