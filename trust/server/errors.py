"""Trust-server errors: Notary's error-code table and the domain errors that map onto it.

Codes, messages and statuses follow notary's `server/errors/errors.go`; validation failures
carry the detail notary sends (`{"Name": "ErrBadRoot", "Error": {"Msg": ...}}`).
Only `trust.server.handlers` turns these into HTTP responses.

Scope: declarations only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trust.tuf.errors import TrustError

__all__ = [
    "ERROR_CODES",
    "BadHierarchyError",
    "BadRootError",
    "BadSnapshotError",
    "BadTargetsError",
    "ErrorCode",
    "InvalidParametersError",
    "InvalidRoleError",
    "MalformedJSONError",
    "MalformedUploadError",
    "MetadataNotFoundError",
    "NoFilenameError",
    "OldVersionError",
    "TrustServerError",
    "UpdateValidationError",
]


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One row of notary's error table."""

    code: str
    message: str
    status: int


ERROR_CODES: dict[str, ErrorCode] = {
    row.code: row
    for row in (
        ErrorCode("NO_FILENAME", "No file/role name provided.", 400),
        ErrorCode("INVALID_ROLE", "The role you are attempting to operate on is invalid.", 400),
        ErrorCode(
            "MALFORMED_JSON", "JSON sent by the client could not be parsed by the server", 400
        ),
        ErrorCode("UPDATING", "An error has occurred while updating the TUF repository.", 500),
        ErrorCode("VERSION", "A newer version of metadata is already available.", 400),
        ErrorCode("METADATA_NOT_FOUND", "You have requested metadata that does not exist.", 404),
        ErrorCode("INVALID_UPDATE", "Update sent by the client is invalid.", 400),
        ErrorCode("MALFORMED_UPLOAD", "The body of your request is malformed.", 400),
        ErrorCode("GENERIC_NOT_FOUND", "You have requested a resource that does not exist.", 404),
        ErrorCode(
            "INVALID_GUN", "The server does not support actions on images of this name.", 400
        ),
        ErrorCode("INVALID_PARAMETERS", "The parameters provided are not valid.", 400),
        ErrorCode("UNKNOWN", "unknown error", 500),
    )
}


class TrustServerError(TrustError):
    """Root of trust-server errors; `code` selects the row of `ERROR_CODES`."""

    code = "UNKNOWN"

    def __init__(self, message: str = "", detail: Any = None) -> None:
        super().__init__(message or ERROR_CODES[self.code].message)
        self.detail = detail


class NoFilenameError(TrustServerError):
    """A multipart part has no file name (role)."""

    code = "NO_FILENAME"


class InvalidRoleError(TrustServerError):
    """A role name is not a base role or a valid delegation name."""

    code = "INVALID_ROLE"


class MalformedJSONError(TrustServerError):
    """An uploaded document is not parseable metadata."""

    code = "MALFORMED_JSON"


class MalformedUploadError(TrustServerError):
    """The publish body is not multipart/form-data or is too large."""

    code = "MALFORMED_UPLOAD"


class MetadataNotFoundError(TrustServerError):
    """No such metadata (or key) for the GUN."""

    code = "METADATA_NOT_FOUND"


class InvalidParametersError(TrustServerError):
    """Bad query parameters (change feed)."""

    code = "INVALID_PARAMETERS"


class OldVersionError(TrustServerError):
    """An update's version is not above the stored one."""

    code = "VERSION"


class UpdateValidationError(TrustServerError):
    """An update fails notary's validation; `name` is notary's Go error type name."""

    code = "INVALID_UPDATE"
    name = "ErrValidation"

    def __init__(self, message: str) -> None:
        super().__init__(message, {"Name": self.name, "Error": {"Msg": message}})


class BadRootError(UpdateValidationError):
    """The root is invalid (signatures, version, certificates, server keys)."""

    name = "ErrBadRoot"


class BadTargetsError(UpdateValidationError):
    """A targets or delegated role is invalid (signatures, delegation, paths, expiry)."""

    name = "ErrBadTargets"


class BadSnapshotError(UpdateValidationError):
    """A client-signed snapshot is invalid or inconsistent with the roles it lists."""

    name = "ErrBadSnapshot"


class BadHierarchyError(UpdateValidationError):
    """A role the update needs is missing (no snapshot and no server snapshot key)."""

    name = "ErrBadHierarchy"

    def __init__(self, missing: str, message: str) -> None:
        super().__init__(message)
        self.detail = {"Name": self.name, "Error": {"Missing": missing, "Msg": message}}
