"""Canonical JSON as Notary computes it for signing and key IDs.

Notary signs `json.MarshalCanonical` output from github.com/docker/go/canonical/json, and
verifies by decoding `signed` into generic Go values and re-encoding it canonically. Its rules:

* object keys sorted (byte order of their UTF-8 encoding, which equals code-point order);
* no insignificant whitespace;
* strings: only `"` and `\\` are escaped; every other character, control characters and
  `<`, `>`, `&` included, is written as raw UTF-8 (the patch that introduced canonical mode
  says "only escaping allowed is \" and \\");
* numbers are integers; a fractional number is an error. Because Go decodes every JSON
  number into a float64, an integral float such as `1.0` or `1e3` is written as an integer.

`encode_canonical_document` gives the same bytes for a value whose object keys are all strings
(what `loads` returns, and the documents built from it), through the C JSON encoder whenever its
text needs nothing that encoder writes differently: no escape and no fractional-looking number.

Scope: encoding Python JSON values (as produced by `json.loads`) to bytes. No I/O.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from trust.tuf.errors import CanonicalJSONError

__all__ = ["encode_canonical", "encode_canonical_document", "loads"]

# A number the C encoder wrote as a float (1.0, -2.5, 1e+16): an object's value follows `":`
# (a string holds `"` only escaped), an array's item follows `[` or `,`. Inside a string the
# same characters only send a value to the slow path; times (`12:30:05.1Z`) do not match.
# One pattern per opening literal: the regex engine skips ahead to a literal far faster than it
# tries an alternation at every position.
_FLOAT_TOKENS = tuple(re.compile(rf"{start}-?\d+[.eE]") for start in ('":', ",", r"\["))


def encode_canonical(value: Any) -> bytes:
    """Encode a JSON value as Notary canonical JSON.

    Args:
        value: dicts with string keys, lists/tuples, str, int, integral float, bool, None.

    Returns:
        The canonical UTF-8 bytes.

    Raises:
        CanonicalJSONError: a value has no canonical form (fractional or non-finite number,
            non-string key, unsupported type).
    """
    parts: list[str] = []
    _encode(value, parts)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (from a "\ud800" escape) decode to U+FFFD in Go; each string is
        # quoted and escapes only insert backslashes, so no pair forms across strings.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def encode_canonical_document(value: dict[str, Any] | list[Any]) -> bytes:
    """`encode_canonical(value)` for an object or array whose object keys are all strings.

    The C encoder writes the same text unless a string needs an escape (it escapes control
    characters, Notary writes them raw) or a number is a float (Notary writes 1.0 as 1): both
    show in its output, and those values take `encode_canonical`, as does anything it refuses.

    Raises:
        CanonicalJSONError: as `encode_canonical`.
    """
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError):
        return encode_canonical(value)
    if "\\" in text or any(token.search(text) for token in _FLOAT_TOKENS):
        return encode_canonical(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: Notary writes U+FFFD
        return encode_canonical(value)


def loads(data: bytes) -> Any:
    """Decode JSON bytes the way Go does: invalid UTF-8 becomes U+FFFD instead of an error.

    Raises:
        ValueError: the bytes are not JSON, or nest deeper than the decoder's stack.
    """
    try:
        return json.loads(data.decode("utf-8", errors="replace"))
    except RecursionError as exc:
        raise ValueError("JSON nests too deeply") from exc


def _encode(value: Any, parts: list[str]) -> None:
    # Text pieces, encoded to UTF-8 once at the end; the most frequent types are tested first,
    # and bool before int (bool is a subclass of int in Python).
    if isinstance(value, str):
        parts.append(_quote(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJSONError(f"object key {key!r} is not a string")
        parts.append("{")
        for index, key in enumerate(sorted(value)):
            if index:
                parts.append(",")
            parts.append(_quote(key))
            parts.append(":")
            _encode(value[key], parts)
        parts.append("}")
    elif value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, float):
        if not math.isfinite(value) or math.floor(value) != value:
            raise CanonicalJSONError(f"number {value!r} has no canonical JSON form")
        parts.append(str(int(value)))
    elif isinstance(value, list | tuple):
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            _encode(item, parts)
        parts.append("]")
    else:
        raise CanonicalJSONError(f"type {type(value).__name__} has no canonical JSON form")


def _quote(text: str) -> str:
    if "\\" in text or '"' in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'
