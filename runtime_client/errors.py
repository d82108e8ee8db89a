"""The runtime client's error family: one root, one subclass per failure the user can see.

The library raises these; only `runtime_client.cli.main` turns them into Docker's error texts
and exit codes. Container-side errors (issue 6) subclass the same root.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "ContentError",
    "DigestMismatchError",
    "ImageInUseError",
    "InvalidArchiveError",
    "InvalidReferenceError",
    "NoSuchContainerError",
    "NoSuchImageError",
    "NotFoundInRegistryError",
    "PlatformNotFoundError",
    "RegistryRequestError",
    "RuntimeClientError",
    "TemplateFormatError",
    "UsageError",
]


class RuntimeClientError(Exception):
    """Root of every error the runtime client raises on purpose."""

    #: Docker prints daemon-side failures as "Error response from daemon: ..."; the CLI adds
    #: that prefix when this is true.
    daemon_style = True


class UsageError(RuntimeClientError):
    """The command line or its options are inconsistent."""

    daemon_style = False


class TemplateFormatError(RuntimeClientError):
    """A --format template cannot be parsed or fails on the data (printed as it is)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class InvalidReferenceError(RuntimeClientError):
    """An image reference (name, tag, digest) is malformed."""

    daemon_style = False


class NoSuchImageError(RuntimeClientError):
    """No local image matches a name, ID or ID prefix."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No such image: {name}")
        self.name = name


class NoSuchContainerError(RuntimeClientError):
    """No container matches a name or ID."""

    def __init__(self, name: str) -> None:
        super().__init__(f"No such container: {name}")
        self.name = name


class ImageInUseError(RuntimeClientError):
    """An image cannot be removed without `-f` (several tags, or used by a container)."""


class ContentError(RuntimeClientError):
    """The local content store is inconsistent or a blob is missing."""


class DigestMismatchError(ContentError):
    """Written content does not hash to the digest (or size) it was promised to have."""

    def __init__(self, expected: str, actual: str, detail: str = "") -> None:
        message = f"digest mismatch: expected {expected}, got {actual}"
        super().__init__(f"{message} ({detail})" if detail else message)
        self.expected = expected
        self.actual = actual


class InvalidArchiveError(RuntimeClientError):
    """An image archive (docker save / OCI layout / import tar) is truncated or malformed."""


class RegistryRequestError(RuntimeClientError):
    """A registry answered with an error, or could not be reached."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class AuthenticationError(RegistryRequestError):
    """The registry refused the credentials (or wants some and none are saved)."""


class NotFoundInRegistryError(RegistryRequestError):
    """A manifest, tag or repository does not exist in the registry."""


class PlatformNotFoundError(RegistryRequestError):
    """An index has no manifest for the requested platform."""
