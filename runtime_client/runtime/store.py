"""The container store: one `container.json` per container under `<root>/containers/<id>/`.

Names are unique; a container is found by full ID, name, or unique ID prefix (Docker's rules).
Writes are atomic (temp file + rename). `locked(id)` serialises state changes of one container
across berth processes (the CLI, and conmon's exit command running `container cleanup`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from runtime_client.container_errors import (
    AmbiguousContainerError,
    InvalidOptionError,
    NameInUseError,
    NoSuchContainerError,
)
from runtime_client.layout import Layout
from runtime_client.runtime.container import Container

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

_ADJECTIVES = ("brave", "calm", "eager", "fond", "gentle", "happy", "keen", "lucid", "merry",
               "nifty", "quirky", "serene", "sharp", "sleepy", "sweet", "tender", "vivid", "wise")
_NOUNS = ("anchor", "bay", "buoy", "cove", "dock", "ferry", "harbor", "jetty", "keel", "mast",
          "pier", "quay", "reef", "sail", "skiff", "tide", "wharf", "yawl")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive flock on `path` for the duration of the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class ContainerStore:
    """Container records on disk."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        layout.containers.mkdir(parents=True, exist_ok=True)

    def _record_path(self, container_id: str) -> Path:
        return self.layout.container_dir(container_id) / "container.json"

    def names_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held while a name is chosen, so two creates cannot take the same name."""
        return file_lock(self.layout.locks / "names.lock")

    def locked(self, container_id: str) -> contextlib.AbstractContextManager[None]:
        """Held while one container's state changes."""
        return file_lock(self.layout.locks / f"ctr-{container_id}.lock")

    def new_id(self) -> str:
        """A fresh 64-hex container ID."""
        return secrets.token_hex(32)

    def generate_name(self) -> str:
        """A Docker-style `adjective_noun` name not used yet."""
        taken = {c.name for c in self.list()}
        while True:
            name = f"{secrets.choice(_ADJECTIVES)}_{secrets.choice(_NOUNS)}"
            if name not in taken:
                return name
            name = f"{name}{secrets.randbelow(100)}"
            if name not in taken:
                return name

    def check_name(self, name: str, exclude_id: str = "") -> None:
        """Raise if `name` is malformed or taken by another container."""
        if not NAME_RE.match(name):
            raise InvalidOptionError(
                f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed')
        for other in self.list():
            if other.name == name.lstrip("/") and other.id != exclude_id:
                raise NameInUseError(
                    f'Conflict. The container name "/{name.lstrip("/")}" is already in use by '
                    f'container "{other.id}". You have to remove (or rename) that container to '
                    "be able to reuse that name.")

    def save(self, container: Container) -> None:
        """Write a record atomically."""
        path = self._record_path(container.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".container.json.{os.getpid()}")
        tmp.write_text(json.dumps(container.to_dict(), indent=1))
        os.replace(tmp, path)

    def load(self, container_id: str) -> Container:
        """The record of an exact container ID."""
        try:
            raw = json.loads(self._record_path(container_id).read_text())
        except FileNotFoundError:
            raise NoSuchContainerError(container_id) from None
        return Container.from_dict(raw)

    def list(self) -> list[Container]:
        """Every container, newest first."""
        found = []
        for entry in self.layout.containers.iterdir():
            with contextlib.suppress(FileNotFoundError, json.JSONDecodeError):
                found.append(Container.from_dict(
                    json.loads((entry / "container.json").read_text())))
        return sorted(found, key=lambda c: c.created, reverse=True)

    def find(self, ref: str) -> Container:
        """A container by full ID, name, or unique ID prefix.

        Raises:
            NoSuchContainerError: nothing matches (Docker's "No such container" text).
            AmbiguousContainerError: the prefix matches several IDs.
        """
        all_containers = self.list()
        name = ref.lstrip("/")
        for c in all_containers:
            if c.id == ref or c.name == name:
                return c
        matches = [c for c in all_containers if ref and c.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise AmbiguousContainerError(
                f"Multiple IDs found with provided prefix: {ref}")
        raise NoSuchContainerError(ref)

    def delete(self, container_id: str) -> None:
        """Remove a container's directory and lock file."""
        shutil.rmtree(self.layout.container_dir(container_id), ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.layout.locks / f"ctr-{container_id}.lock").unlink()
