"""Overlayfs snapshotter: committed layers as lowerdirs, active snapshots with their own upper.

Layout (see `runtime_client.layout`): `<root>/snapshots/<dir>/{info.json,fs,work}`. `fs` holds
the layer's files in overlay form (whiteouts are 0:0 character devices, opaque directories
carry `trusted.overlay.opaque=y`), so the same directory is an upperdir while active and a
lowerdir once committed. Snapshot names such as `sha256:<hex>` are mapped to directory names by
`_dirname`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from runtime_client.container_errors import SnapshotError
from runtime_client.snapshots.base import Change, ChangeKind, Info, Kind
from runtime_client.snapshots.mount import Mount

logger = logging.getLogger(__name__)

OPAQUE_XATTR = "trusted.overlay.opaque"


def _dirname(name: str) -> str:
    if "/" in name or name in ("", ".", ".."):
        raise SnapshotError(f"invalid snapshot name {name!r}")
    return name.replace(":", "-")


def is_whiteout(st: os.stat_result) -> bool:
    """True for an overlayfs whiteout (a character device 0:0)."""
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def is_opaque(path: Path) -> bool:
    """True for a directory marked opaque in an overlay upper or lower dir."""
    try:
        return os.getxattr(path, OPAQUE_XATTR, follow_symlinks=False) == b"y"
    except OSError:
        return False


class OverlaySnapshotter:
    """Snapshotter over overlayfs directories under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    # -- metadata ---------------------------------------------------------------------------

    def _dir(self, name: str) -> Path:
        return self.root / _dirname(name)

    def _write_info(self, info: Info) -> None:
        path = self._dir(info.name) / "info.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"name": info.name, "kind": info.kind.value,
                                   "parent": info.parent}))
        os.replace(tmp, path)

    def stat(self, name: str) -> Info:
        try:
            raw = json.loads((self._dir(name) / "info.json").read_text())
        except FileNotFoundError:
            raise SnapshotError(f"snapshot {name} does not exist") from None
        return Info(raw["name"], Kind(raw["kind"]), raw["parent"])

    def exists(self, name: str) -> bool:
        return (self._dir(name) / "info.json").exists()

    def walk(self) -> Iterator[Info]:
        for entry in sorted(self.root.iterdir()):
            if (entry / "info.json").exists():
                raw = json.loads((entry / "info.json").read_text())
                yield Info(raw["name"], Kind(raw["kind"]), raw["parent"])

    def upper_dir(self, key: str) -> Path:
        return self._dir(key) / "fs"

    def lower_dirs(self, parent: str | None) -> list[Path]:
        """Lower directories of a snapshot on `parent`, topmost first."""
        lowers: list[Path] = []
        while parent is not None:
            info = self.stat(parent)
            if info.kind is not Kind.COMMITTED:
                raise SnapshotError(f"parent snapshot {parent} is not committed")
            lowers.append(self.upper_dir(parent))
            parent = info.parent
        return lowers

    # -- lifecycle --------------------------------------------------------------------------

    def prepare(self, key: str, parent: str | None) -> list[Mount]:
        if self.exists(key):
            raise SnapshotError(f"snapshot {key} already exists")
        lowers = self.lower_dirs(parent)
        base = self._dir(key)
        base.mkdir(parents=True)
        (base / "fs").mkdir(mode=0o755)
        (base / "work").mkdir(mode=0o700)
        self._write_info(Info(key, Kind.ACTIVE, parent))
        return self._active_mounts(key, lowers)

    def _active_mounts(self, key: str, lowers: list[Path]) -> list[Mount]:
        upper = self.upper_dir(key)
        if not lowers:
            return [Mount("bind", str(upper), ("rw", "rbind"))]
        options = (f"lowerdir={':'.join(map(str, lowers))}", f"upperdir={upper}",
                   f"workdir={self._dir(key) / 'work'}", "index=off")
        return [Mount("overlay", "overlay", options)]

    def mounts(self, key: str) -> list[Mount]:
        info = self.stat(key)
        if info.kind is not Kind.ACTIVE:
            raise SnapshotError(f"snapshot {key} is not active")
        return self._active_mounts(key, self.lower_dirs(info.parent))

    def view(self, key: str, parent: str) -> list[Mount]:
        lowers = self.lower_dirs(parent)
        if len(lowers) == 1:
            return [Mount("bind", str(lowers[0]), ("ro", "rbind"))]
        return [Mount("overlay", "overlay", (f"lowerdir={':'.join(map(str, lowers))}",))]

    def commit(self, name: str, key: str) -> None:
        info = self.stat(key)
        if info.kind is not Kind.ACTIVE:
            raise SnapshotError(f"snapshot {key} is not active")
        if self.exists(name):
            raise SnapshotError(f"snapshot {name} already exists")
        shutil.rmtree(self._dir(key) / "work", ignore_errors=True)
        os.rename(self._dir(key), self._dir(name))
        self._write_info(Info(name, Kind.COMMITTED, info.parent))

    def remove(self, name: str) -> None:
        if not self.exists(name):
            raise SnapshotError(f"snapshot {name} does not exist")
        children = [i.name for i in self.walk() if i.parent == name]
        if children:
            raise SnapshotError(f"snapshot {name} is the parent of {', '.join(children)}")
        # Rename first so a crash leaves no half-removed snapshot that looks valid.
        doomed = self.root / f".removing-{_dirname(name)}"
        os.rename(self._dir(name), doomed)
        shutil.rmtree(doomed)

    def usage(self, name: str) -> int:
        total = 0
        for dirpath, _dirs, files in os.walk(self.upper_dir(name)):
            for f in files:
                try:
                    total += os.lstat(os.path.join(dirpath, f)).st_size
                except FileNotFoundError:
                    continue
        return total

    # -- diff -------------------------------------------------------------------------------

    def changes(self, key: str) -> list[Change]:
        info = self.stat(key)
        lowers = self.lower_dirs(info.parent)
        upper = self.upper_dir(key)
        found: list[Change] = []
        opaque: list[str] = []

        def in_lower(rel: str) -> bool:
            if any(rel.startswith(o + "/") for o in opaque):
                return False
            for lower in lowers:
                p = lower / rel
                try:
                    st = os.lstat(p)
                except FileNotFoundError:
                    # An opaque ancestor in this lower hides everything below.
                    continue
                return not is_whiteout(st)
            return False

        for dirpath, dirs, files in os.walk(upper):
            rel_dir = os.path.relpath(dirpath, upper)
            for name in sorted(dirs + files):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                st = os.lstat(upper / rel)
                if stat.S_ISDIR(st.st_mode) and is_opaque(upper / rel):
                    opaque.append(rel)
                if is_whiteout(st):
                    found.append(Change(ChangeKind.DELETED, "/" + rel))
                elif in_lower(rel):
                    found.append(Change(ChangeKind.CHANGED, "/" + rel))
                else:
                    found.append(Change(ChangeKind.ADDED, "/" + rel))
        return sorted(found, key=lambda c: c.path)
