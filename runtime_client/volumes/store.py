"""Local-driver volumes on disk: `<root>/volumes/<name>/volume.json` beside `_data`.

Concurrency: every change (create, remove) and every decision that must not race with one
("is it in use?" before removing, "does it exist?" before a container records it) runs under
one flock, `<root>/locks/volumes.lock`, the way the container store serialises its name index.
A record is written to a temporary file and renamed, so a reader never sees half of one; a
volume directory without a record (a crash between the two) is not listed and is finished by
the next create of that name.

A volume with driver options (`-o type=tmpfs -o device=tmpfs -o o=size=64m`) is mounted on its
`_data` the first time a container uses it and unmounted when the volume is removed, as
dockerd's local driver does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from runtime_client.container_errors import InvalidOptionError, VolumeError
from runtime_client.layout import Layout
from runtime_client.runtime.store import file_lock
from runtime_client.snapshots import mount
from runtime_client.volumes.model import ANONYMOUS_LABEL, LOCAL_OPTION_KEYS, Volume

__all__ = ["NoSuchVolumeError", "VolumeStore"]

logger = logging.getLogger(__name__)

RECORD = "volume.json"


class NoSuchVolumeError(VolumeError):
    """No volume has the given name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"get {name}: no such volume")
        self.name = name


class VolumeStore:
    """The volumes of one berth root."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the volumes lock (see the module docstring)."""
        with file_lock(self.layout.locks / "volumes.lock"):
            yield

    def list(self) -> list[Volume]:
        """Every volume, by name."""
        if not self.layout.volumes.is_dir():
            return []
        found = []
        for record in sorted(self.layout.volumes.glob(f"*/{RECORD}")):
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                found.append(Volume(**json.loads(record.read_text())))
        return found

    def get(self, name: str) -> Volume:
        """Raises NoSuchVolumeError."""
        try:
            return Volume(**json.loads((self.layout.volumes / name / RECORD).read_text()))
        except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
            raise NoSuchVolumeError(name) from None

    def data(self, name: str) -> Path:
        return self.layout.volume_data(name)

    def create(self, name: str = "", driver: str = "local",
               labels: Mapping[str, str] | None = None,
               options: Mapping[str, str] | None = None) -> Volume:
        """Create a volume, or return the existing one of that name (dockerd's answer too).

        Without a name the volume is anonymous: a random 64-hex name and dockerd's anonymous
        label. The caller holds `locked()`.

        Raises:
            VolumeError: a driver other than `local`, or a local option it does not know.
        """
        if driver != "local":
            raise VolumeError(f"create {name}: error looking up volume plugin {driver}: "
                              f'plugin "{driver}" not found')
        for key in options or {}:
            if key not in LOCAL_OPTION_KEYS:
                raise InvalidOptionError(f"create {name}: invalid option key: {key!r}")
        labels = None if labels is None else dict(labels)
        if not name:
            name = secrets.token_hex(32)
            labels = {**(labels or {}), ANONYMOUS_LABEL: ""}
        with contextlib.suppress(NoSuchVolumeError):
            return self.get(name)
        volume = Volume(name, datetime.now(UTC).replace(microsecond=0).isoformat()
                        .replace("+00:00", "Z"), driver, labels,
                        None if options is None else dict(options))
        directory = self.layout.volumes / name
        (directory / "_data").mkdir(mode=0o755, parents=True, exist_ok=True)
        tmp = directory / f"{RECORD}.tmp"
        tmp.write_text(json.dumps(volume.__dict__))
        os.replace(tmp, directory / RECORD)
        logger.info("created volume %s", name)
        return volume

    def mount_data(self, volume: Volume) -> Path:
        """`_data`, with the volume's driver options mounted on it first when it has any.

        Raises:
            MountError: the options do not mount.
        """
        data = self.data(volume.name)
        opts = volume.options or {}
        if opts.get("type") or opts.get("device"):
            with self.locked():
                if not mount.is_mounted(data):
                    mount.mount_all([mount.Mount(opts.get("type") or "none", opts.get("device")
                                                 or "none", tuple(filter(None, opts.get(
                                                     "o", "").split(","))))], data)
        return data

    def remove(self, name: str) -> None:
        """Delete a volume and its data (unmounting its driver options). Caller holds the lock."""
        directory = self.layout.volumes / name
        data = directory / "_data"
        with contextlib.suppress(Exception):
            mount.unmount(data, lazy=True)
        (directory / RECORD).unlink(missing_ok=True)
        shutil.rmtree(directory, ignore_errors=True)
        logger.info("removed volume %s", name)

    def size(self, name: str) -> int:
        """Bytes stored in a volume (files' apparent sizes, as `system df` counts them)."""
        total = 0
        for dirpath, _dirs, files in os.walk(self.data(name)):
            for f in files:
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(dirpath, f)).st_size
        return total
