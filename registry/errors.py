"""Domain errors of the hub. Each names its distribution-spec error code and carries detail.

Only the API layer (`registry.api.middleware`) turns these into HTTP responses.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlreadyExistsError",
    "BlobUnknownError",
    "BlobUploadInvalidError",
    "BlobUploadUnknownError",
    "DeniedError",
    "DigestInvalidError",
    "InsufficientScopeError",
    "InvalidRequestError",
    "ManifestBlobUnknownError",
    "ManifestInvalidError",
    "ManifestTooLargeError",
    "ManifestUnknownError",
    "NameInvalidError",
    "NameUnknownError",
    "NotFoundError",
    "PaginationInvalidError",
    "QuotaExceededError",
    "RangeInvalidError",
    "RegistryError",
    "RetentionBusyError",
    "SizeInvalidError",
    "TagImmutableError",
    "TagInvalidError",
    "TooManyRequestsError",
    "UnauthorizedError",
    "UnavailableError",
    "UnsignedContentError",
    "UnsupportedError",
]


class RegistryError(Exception):
    """Root of the hub's domain errors."""

    code = "UNKNOWN"

    def __init__(self, message: str | None = None, **detail: Any) -> None:
        super().__init__(message or self.code)
        self.message = message
        self.detail = detail


class BlobUnknownError(RegistryError):
    """The blob is not known to the repository."""

    code = "BLOB_UNKNOWN"


class BlobUploadInvalidError(RegistryError):
    """The upload request is invalid."""

    code = "BLOB_UPLOAD_INVALID"


class BlobUploadUnknownError(RegistryError):
    """No such upload session (for this repository)."""

    code = "BLOB_UPLOAD_UNKNOWN"


class DigestInvalidError(RegistryError):
    """A digest is malformed or does not match the content."""

    code = "DIGEST_INVALID"


class ManifestBlobUnknownError(RegistryError):
    """A manifest references a blob or child manifest the repository does not have."""

    code = "MANIFEST_BLOB_UNKNOWN"


class ManifestInvalidError(RegistryError):
    """A manifest is malformed or fails validation."""

    code = "MANIFEST_INVALID"


class ManifestTooLargeError(RegistryError):
    """A manifest body exceeds the configured limit."""

    code = "SIZE_INVALID"


class ManifestUnknownError(RegistryError):
    """No manifest for that tag or digest in the repository."""

    code = "MANIFEST_UNKNOWN"


class NameInvalidError(RegistryError):
    """The repository name does not match the spec's grammar."""

    code = "NAME_INVALID"


class NameUnknownError(RegistryError):
    """The repository is not known to the registry."""

    code = "NAME_UNKNOWN"


class SizeInvalidError(RegistryError):
    """A declared length does not match the content."""

    code = "SIZE_INVALID"


class TagInvalidError(RegistryError):
    """A tag does not match the spec's grammar."""

    code = "TAG_INVALID"


class RangeInvalidError(RegistryError):
    """A chunk does not start where the upload currently ends."""

    code = "RANGE_INVALID"

    def __init__(self, message: str | None = None, *, current_size: int = 0, **detail: Any) -> None:
        super().__init__(message, **detail)
        self.current_size = current_size


class PaginationInvalidError(RegistryError):
    """The `n` or `last` pagination parameter is invalid."""

    code = "PAGINATION_NUMBER_INVALID"


class UnauthorizedError(RegistryError):
    """The request carries no acceptable credentials."""

    code = "UNAUTHORIZED"


class DeniedError(RegistryError):
    """The caller may not perform the action."""

    code = "DENIED"


class UnsignedContentError(DeniedError):
    """The repository requires content trust and the manifest asked for is not signed."""


class TagImmutableError(DeniedError):
    """An immutability rule holds the tag: it may not move to another digest or be deleted."""

    @classmethod
    def held(
        cls, repository: str, tag: str, rule: int, pattern: str, scope: str, refused: str
    ) -> TagImmutableError:
        """The refusal of `refused` (e.g. `delete tag`) naming the tag and the rule."""
        return cls(
            f"tag {tag!r} of {repository} is immutable (rule {rule} {pattern!r} on {scope}):"
            f" cannot {refused}; remove the rule first",
            tag=tag,
            rule=rule,
            pattern=pattern,
            scope=scope,
        )


class QuotaExceededError(DeniedError):
    """A push would take its namespace's storage past its quota."""


class InsufficientScopeError(DeniedError):
    """A bearer token does not hold the actions; the client may fetch a better one (401)."""


class UnsupportedError(RegistryError):
    """The operation is disabled or not supported."""

    code = "UNSUPPORTED"


class TooManyRequestsError(RegistryError):
    """The caller is being throttled."""

    code = "TOOMANYREQUESTS"


class UnavailableError(RegistryError):
    """Something the request depends on (a proxy namespace's upstream) cannot answer now."""

    code = "UNAVAILABLE"


class InvalidRequestError(RegistryError):
    """A Hub API request is malformed or breaks a rule (bad name, unknown role, ...)."""

    code = "INVALID_REQUEST"


class NotFoundError(RegistryError):
    """A Hub API resource (user, organization, team, token, repository) does not exist."""

    code = "NOT_FOUND"


class AlreadyExistsError(RegistryError):
    """A Hub API resource with that name already exists."""

    code = "ALREADY_EXISTS"


class RetentionBusyError(RegistryError):
    """A real retention run of the repository is already in progress (on some replica)."""

    code = "ALREADY_EXISTS"


class ReplicationBusyError(RegistryError):
    """A run of the replication rule is already in progress (on some replica)."""

    code = "ALREADY_EXISTS"
