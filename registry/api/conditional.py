"""Conditional and range requests (RFC 9110 sections 13 and 14), decided from header values.

Blobs and manifests are content-addressed, so their entity tag is the quoted digest and never
changes: `If-None-Match` answers 304, `If-Range` compares tags, and a `Range` is served as a
single byte range. What the RFC lets a server ignore is ignored (a whole 200 answer): other
range units, malformed or several ranges, an `If-Range` that does not match strongly or that
carries a date (the hub sends no `Last-Modified`).

Scope: header values in, decisions out; no aiohttp, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ByteRange", "UnsatisfiableRangeError", "none_match", "select_range"]

# RFC 9110 14.1.2: byte-ranges-specifier = "bytes=" int-range / suffix-range (one range only).
_SINGLE_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)", re.IGNORECASE)


class UnsatisfiableRangeError(ValueError):
    """A valid byte range that lies outside the content (416, `Content-Range: bytes */size`)."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive range of byte positions, `first` <= `last`."""

    first: int
    last: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.first}-{self.last}/{size}"


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def none_match(header: str | None, etag: str) -> bool:
    """Whether `If-None-Match` matches `etag` (weak comparison, RFC 9110 13.1.2)."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def select_range(
    range_header: str | None, if_range: str | None, size: int, etag: str
) -> ByteRange | None:
    """The byte range to send, or None for the whole content.

    Args:
        range_header: the request's `Range`.
        if_range: the request's `If-Range`; the range applies only when it is `etag` itself
            (a strong comparison: a weak tag or a date never matches).
        size: the content's length in bytes.
        etag: the content's strong entity tag, quoted.

    Raises:
        UnsatisfiableRangeError: the range starts at or after the end, or asks for the last
            zero bytes (RFC 9110 14.1.1).
    """
    if range_header is None or size == 0:
        return None
    if if_range is not None and if_range.strip() != etag:
        return None
    match = _SINGLE_RANGE.fullmatch(range_header.strip())
    if match is None:
        return None  # another unit, several ranges or bad syntax: ignore the header
    first, last = match.groups()
    if not first:
        if not last:
            return None
        suffix = int(last)
        if suffix == 0:
            raise UnsatisfiableRangeError(f"bytes=-0 of {size} bytes")
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec: ignore it
    if start >= size:
        raise UnsatisfiableRangeError(f"bytes={start}- of {size} bytes")
    return ByteRange(start, min(int(last), size - 1) if last else size - 1)
