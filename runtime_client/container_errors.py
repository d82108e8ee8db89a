"""Errors of the container half of berth: snapshots, unpacking, runtime, networks, volumes.

Each error carries the text Docker prints for the same failure and the exit status the CLI
returns (125 for berth's own failures, 126 when the command cannot be invoked, 127 when it is
not found), so the CLI maps exceptions to exit codes in one place.
"""

from __future__ import annotations

from runtime_client.errors import NoSuchContainerError, NoSuchImageError, RuntimeClientError

__all__ = [
    "AmbiguousContainerError", "BadLayerError", "CommandNotExecutableError",
    "CommandNotFoundError", "ContainerError", "InvalidFlagError", "InvalidOptionError",
    "InvalidStateError",
    "MountError", "NameInUseError", "NetworkError", "NetworkInUseError", "NoSuchContainerError",
    "NoSuchImageError", "NoSuchNetworkError", "OciRuntimeError", "PortInUseError",
    "SnapshotError",
    "UnsafeLayerError", "VolumeError",
]


class ContainerError(RuntimeClientError):
    """Root of the errors raised by the container half of berth."""

    exit_code = 125


class UnsafeLayerError(ContainerError):
    """A layer tar has an entry or link that would escape the snapshot root."""


class BadLayerError(ContainerError):
    """A layer tar cannot be read or applied."""


class SnapshotError(ContainerError):
    """A snapshot is missing, already exists, or is in the wrong state."""


class MountError(ContainerError):
    """mount(8) or umount(8) failed."""


class AmbiguousContainerError(ContainerError):
    """An ID prefix matches several containers."""


class NameInUseError(ContainerError):
    """A container name is already taken."""


class InvalidStateError(ContainerError):
    """A lifecycle transition is not allowed from the container's current state."""


class OciRuntimeError(ContainerError):
    """runc/crun or conmon failed."""


class CommandNotFoundError(OciRuntimeError):
    """The container's command does not exist in its root filesystem (exit 127)."""

    exit_code = 127


class CommandNotExecutableError(OciRuntimeError):
    """The container's command exists but cannot be executed (exit 126)."""

    exit_code = 126


class NetworkError(ContainerError):
    """A network cannot be created, found, joined or removed."""


class NoSuchNetworkError(NetworkError):
    """No network has the given name or ID."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"network {ref} not found")
        self.ref = ref


class NetworkInUseError(NetworkError):
    """A network still has containers attached."""


class PortInUseError(NetworkError):
    """A host port to publish is published by another container or held by a process."""


class VolumeError(ContainerError):
    """A named volume cannot be created, found or removed."""


class InvalidOptionError(ContainerError):
    """A command-line value (port spec, memory size, env file, ...) is malformed."""


class InvalidFlagError(InvalidOptionError):
    """A flag value the docker CLI itself refuses (so not worded as the daemon's answer)."""

    daemon_style = False
