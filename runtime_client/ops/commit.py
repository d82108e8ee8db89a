"""`berth commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE] CONTAINER [REPO[:TAG]]`.

The container's upper directory becomes one new layer, overlay whiteouts turned back into OCI
ones (a 0:0 character device `x` -> empty file `.wh.x`; an opaque directory -> `.wh..wh..opq`
inside it). Extended attributes of the changed files travel as PAX `SCHILY.xattr.*` records
(what `unpack` reads back), except overlayfs's own `trusted.overlay.*`, whose meaning the
whiteouts above already carry. The new image is the container's image plus that layer, with
the container's configuration (Cmd, Entrypoint, Env, WorkingDir, User, ExposedPorts, Labels)
and any Dockerfile-style `--change` instructions applied (`runtime_client.images.changes`).
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import hashlib
import os
import stat
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from runtime_client.images.changes import apply_changes
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container, Status
from runtime_client.runtime.lifecycle import now
from runtime_client.snapshots.overlay import is_opaque, is_whiteout
from runtime_client.tree_tar import add_path, walk_sorted
from runtime_client.unpack import OPAQUE_MARKER, WHITEOUT_PREFIX


@dataclass(frozen=True)
class CommitOptions:
    """Options of `commit`."""

    container: str
    reference: str | None = None
    author: str = ""
    message: str = ""
    changes: tuple[str, ...] = ()
    pause: bool = True


class _HashingWriter:
    """Counts and hashes the uncompressed tar on its way into gzip (the diff ID)."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.inner.write(data)

    def flush(self) -> None:
        self.inner.flush()


def write_layer(upper: Path, out: BinaryIO) -> str:
    """Write the OCI layer tar of an overlay upper directory to `out`; return its diff ID."""
    hashing = _HashingWriter(out)
    with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
        for path, arcname in walk_sorted(upper):
            st = os.lstat(path)
            if is_whiteout(st):
                info = tarfile.TarInfo(str(Path(arcname).parent / (WHITEOUT_PREFIX + path.name))
                                       .removeprefix("./"))
                info.mtime = int(st.st_mtime)
                tar.addfile(info)
                continue
            add_path(tar, path, arcname)
            if stat.S_ISDIR(st.st_mode) and is_opaque(path):
                marker = tarfile.TarInfo(f"{arcname}/{OPAQUE_MARKER}")
                marker.mtime = int(st.st_mtime)
                tar.addfile(marker)
    return "sha256:" + hashing.hash.hexdigest()


def _container_config(container: Container, base: dict[str, Any]) -> dict[str, Any]:
    config = copy.deepcopy(base)
    config.update({
        "Cmd": container.cmd or None, "Entrypoint": container.entrypoint or None,
        "Env": container.env, "WorkingDir": container.workdir, "User": container.user,
        "ExposedPorts": {e: {} for e in container.exposed_ports} or None,
        "Labels": container.labels or None,
        "StopSignal": container.stop_signal or None,  # dockerd keeps --stop-signal too
    })
    return {k: v for k, v in config.items() if v is not None}


def commit(ctx: Context, opts: CommitOptions) -> str:
    """Create an image from a container; returns the new image ID.

    Raises:
        NoSuchContainerError, NoSuchImageError (the container's image is gone),
        InvalidChangeError (a bad --change).
    """
    container = ctx.containers.find(opts.container)
    parent = ctx.images.resolve(container.image_id)
    config = copy.deepcopy(parent.config)
    config["config"] = _container_config(container, parent.run_config)
    config = apply_changes(config, list(opts.changes))
    runtime = ctx.runtime(container.runtime)
    paused = opts.pause and container.status is Status.RUNNING
    with tempfile.TemporaryDirectory(dir=ctx.layout.root) as tmp:
        blob = Path(tmp) / "layer.tar.gz"
        if paused:
            runtime.pause(container.id)
        try:
            with open(blob, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                diff_id = write_layer(ctx.snapshots.upper_dir(container.id), gz)  # type: ignore[arg-type]
        finally:
            if paused:
                with contextlib.suppress(Exception):
                    runtime.resume(container.id)
        created = now()
        config["created"] = created
        if opts.author:
            config["author"] = opts.author
        rootfs = config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), diff_id]
        config["history"] = [*config.get("history", []), {
            "created": created,
            "created_by": " ".join([*container.entrypoint, *container.cmd]),
            **({"author": opts.author} if opts.author else {}),
            **({"comment": opts.message} if opts.message else {}),
        }]
        config["container"] = container.id
        return ctx.images.create_image(config, parent, blob, opts.reference)
