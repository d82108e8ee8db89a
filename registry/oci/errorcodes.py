"""The distribution-spec error codes, declared once: code -> (message, HTTP status).

The hub's error middleware renders these as `{"errors":[{"code","message","detail"}]}`; the
client maps them back to typed errors. Only the API layer turns them into HTTP responses.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ERROR_CODES", "ErrorCode"]


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One row of the spec's error-code table."""

    code: str
    message: str
    status: int


_TABLE = [
    ErrorCode("BLOB_UNKNOWN", "blob unknown to registry", 404),
    ErrorCode("BLOB_UPLOAD_INVALID", "blob upload invalid", 400),
    ErrorCode("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", 404),
    ErrorCode("DIGEST_INVALID", "provided digest did not match uploaded content", 400),
    ErrorCode(
        "MANIFEST_BLOB_UNKNOWN", "manifest references a manifest or blob unknown to registry", 400
    ),
    ErrorCode("MANIFEST_INVALID", "manifest invalid", 400),
    ErrorCode("MANIFEST_UNKNOWN", "manifest unknown to registry", 404),
    ErrorCode("NAME_INVALID", "invalid repository name", 400),
    ErrorCode("NAME_UNKNOWN", "repository name not known to registry", 404),
    ErrorCode("SIZE_INVALID", "provided length did not match content length", 400),
    ErrorCode("TAG_INVALID", "manifest tag did not match URI", 400),
    ErrorCode("UNAUTHORIZED", "authentication required", 401),
    ErrorCode("DENIED", "requested access to the resource is denied", 403),
    ErrorCode("UNSUPPORTED", "the operation is unsupported", 405),
    ErrorCode("TOOMANYREQUESTS", "too many requests", 429),
    ErrorCode("RANGE_INVALID", "invalid content range", 416),
    ErrorCode("PAGINATION_NUMBER_INVALID", "invalid number of results requested", 400),
    # Hub API codes (accounts, repositories), beyond the distribution-spec table.
    ErrorCode("INVALID_REQUEST", "the request is invalid", 400),
    ErrorCode("NOT_FOUND", "no such resource", 404),
    ErrorCode("ALREADY_EXISTS", "the resource already exists", 409),
    # Distribution's code for a dependency that cannot answer (a pull-through cache's upstream).
    ErrorCode("UNAVAILABLE", "service unavailable", 503),
    # Distribution's code for what fits no other.
    ErrorCode("UNKNOWN", "unknown error", 500),
]

ERROR_CODES: dict[str, ErrorCode] = {row.code: row for row in _TABLE}
