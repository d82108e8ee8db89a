"""Named volumes under `<root>/volumes/<name>/_data`: which exist and which are in use."""

from __future__ import annotations

import os
import shutil

from runtime_client.ops.context import Context


def volume_names(ctx: Context) -> list[str]:
    """Every named (or anonymous) volume."""
    if not ctx.layout.volumes.exists():
        return []
    return sorted(p.name for p in ctx.layout.volumes.iterdir() if p.is_dir())


def volumes_in_use(ctx: Context) -> set[str]:
    """Volumes named in the -v options of existing containers."""
    used = set()
    for container in ctx.containers.list():
        for bind in container.binds:
            source = bind.split(":")[0]
            if ":" in bind and not source.startswith("/"):
                used.add(source)
    return used


def volume_size(ctx: Context, name: str) -> int:
    """Bytes stored in a volume."""
    total = 0
    for dirpath, _dirs, files in os.walk(ctx.layout.volumes / name):
        for f in files:
            total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def remove_volume(ctx: Context, name: str) -> None:
    shutil.rmtree(ctx.layout.volumes / name, ignore_errors=True)
