"""Integer query and path parameters, read one strict way everywhere.

`str.isdigit()` also accepts characters such as "²" that `int()` refuses, and the database
refuses integers beyond 64 bits: both must end as the caller's 400, never as a 500.
"""

from __future__ import annotations

import re

__all__ = ["INT64_MAX", "non_negative_int"]

INT64_MAX = 2**63 - 1  # the largest integer an SQL BIGINT (and SQLite INTEGER) holds

_DIGITS = re.compile(r"[0-9]+")


def non_negative_int(raw: str, maximum: int = INT64_MAX) -> int | None:
    """`raw` as an integer when it is ASCII digits no larger than `maximum`, else None.

    Args:
        raw: the parameter's text.
        maximum: the largest value accepted (default: what a 64-bit column holds).
    """
    if not _DIGITS.fullmatch(raw) or len(raw) > len(str(maximum)):
        return None
    value = int(raw)
    return value if value <= maximum else None
