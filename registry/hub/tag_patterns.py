"""Tag patterns: shell-style globs (`v*`, `release-?.*`, `[0-9]*`) matched against whole tags.

Immutability rules and retention policies name tags by these patterns. A pattern is the tag
grammar's characters plus the glob operators `*`, `?`, `[`, `]` and `!`; it matches only the
full tag (`v*` matches `v1.2`, not `latest-v1`). Matching is case-sensitive, as tags are.

Scope: validation and matching only; pure (no database, no aiohttp).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

__all__ = ["MAX_PATTERN_LENGTH", "PatternError", "matches", "validate_pattern"]

MAX_PATTERN_LENGTH = 128  # characters, as long as the longest tag

_PATTERN_RE = re.compile(r"[a-zA-Z0-9._*?\[\]!-]+")


class PatternError(ValueError):
    """A tag pattern is empty, too long or holds characters no tag can match."""


def validate_pattern(pattern: str) -> str:
    """The pattern, when it is a usable tag glob.

    Raises:
        PatternError: empty, longer than `MAX_PATTERN_LENGTH`, or with other characters.
    """
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"a tag pattern has 1 to {MAX_PATTERN_LENGTH} characters")
    if _PATTERN_RE.fullmatch(pattern) is None:
        raise PatternError(
            f"tag pattern {pattern!r} may hold only tag characters (letters, digits, '.', '_',"
            " '-') and the glob operators '*', '?', '[', ']', '!'"
        )
    return pattern


def matches(tag: str, pattern: str) -> bool:
    """Whether the whole `tag` matches the glob `pattern` (case-sensitive)."""
    return fnmatchcase(tag, pattern)
