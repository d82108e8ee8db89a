"""The Snapshotter contract (containerd's snapshots.Snapshotter, reduced to what berth uses).

A snapshot is either *committed* (an immutable layer, named by its chain ID) or *active* (a
writable layer on top of a committed parent, keyed by a container ID or an extraction key).
Snapshotters never mount anything: `prepare`, `view` and `mounts` return `list[Mount]`, and
`snapshots.mount` is the only module that turns those into mount(2) calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from runtime_client.snapshots.mount import Mount


class Kind(StrEnum):
    """Whether a snapshot may still change."""

    COMMITTED = "committed"
    ACTIVE = "active"


@dataclass(frozen=True)
class Info:
    """What a snapshotter knows about one snapshot."""

    name: str
    kind: Kind
    parent: str | None


class ChangeKind(StrEnum):
    """Docker's `diff` letters."""

    ADDED = "A"
    CHANGED = "C"
    DELETED = "D"


@dataclass(frozen=True)
class Change:
    """One path changed by an active snapshot relative to its parent (`/`-rooted path)."""

    kind: ChangeKind
    path: str


class Snapshotter(Protocol):
    """Layered file system snapshots returning mounts instead of mounting."""

    def stat(self, name: str) -> Info:
        """Info of a snapshot; raises SnapshotError when it does not exist."""
        ...

    def exists(self, name: str) -> bool:
        """True when a snapshot of that name or key exists."""
        ...

    def prepare(self, key: str, parent: str | None) -> list[Mount]:
        """Create an active snapshot on `parent` and return the mounts that make it writable."""
        ...

    def view(self, key: str, parent: str) -> list[Mount]:
        """Read-only mounts of the committed snapshot `parent` (no new snapshot is kept)."""
        ...

    def mounts(self, key: str) -> list[Mount]:
        """The mounts of an existing active snapshot."""
        ...

    def commit(self, name: str, key: str) -> None:
        """Turn the active snapshot `key` into the committed snapshot `name`."""
        ...

    def remove(self, name: str) -> None:
        """Remove a snapshot; refuses when other snapshots use it as parent."""
        ...

    def walk(self) -> Iterator[Info]:
        """Every snapshot."""
        ...

    def usage(self, name: str) -> int:
        """Bytes used by the snapshot's own layer."""
        ...

    def upper_dir(self, key: str) -> Path:
        """The directory holding the snapshot's own files (for diff, commit, unpack)."""
        ...

    def changes(self, key: str) -> list[Change]:
        """What the active snapshot `key` added, changed and deleted, sorted by path."""
        ...
