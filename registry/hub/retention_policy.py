"""Retention policies: which tags of a repository a retention run keeps, and which go.

A policy holds keep-rules; a tag is kept when ANY rule keeps it (as in Harbor), and goes only
when none does:

- `keep_newest: N`: the N most recently pushed tags (push time; ties by name).
- `keep_pulled_days: D`: tags pulled within the last D days.
- `keep_matching: [patterns]`: tags matching any of the globs (`registry.hub.tag_patterns`).
- `keep_not_matching: [patterns]`: tags matching none of the globs.

A policy needs at least one rule (an empty one would delete every tag). Tags an immutability
rule holds are never removed, whatever the policy says. `schedule_hours` (optional) makes the
hub run the policy every that many hours.

Scope: the policy document and the decision; pure ("now" is a parameter; no database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from registry.hub.tag_patterns import PatternError, matches, validate_pattern

__all__ = ["RetentionPolicy", "RetentionPolicyError", "TagState", "tags_to_remove"]

MAX_PATTERNS = 32  # per list
_KEYS = {"keep_newest", "keep_pulled_days", "keep_matching", "keep_not_matching", "schedule_hours"}


class RetentionPolicyError(ValueError):
    """A retention policy document is malformed."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """A retention policy (see the module docstring); None fields are rules not given."""

    keep_newest: int | None = None
    keep_pulled_days: int | None = None
    keep_matching: tuple[str, ...] | None = None
    keep_not_matching: tuple[str, ...] | None = None
    schedule_hours: int | None = None

    @classmethod
    def from_dict(cls, document: Any) -> RetentionPolicy:
        """The policy a JSON document describes.

        Raises:
            RetentionPolicyError: unknown keys, wrong types, bad patterns, or no keep-rule.
        """
        if not isinstance(document, dict):
            raise RetentionPolicyError("a retention policy is a JSON object")
        unknown = sorted(set(document) - _KEYS)
        if unknown:
            raise RetentionPolicyError(f"unknown retention policy keys: {', '.join(unknown)}")
        policy = cls(
            keep_newest=_count(document, "keep_newest", minimum=0),
            keep_pulled_days=_count(document, "keep_pulled_days", minimum=1),
            keep_matching=_patterns(document, "keep_matching"),
            keep_not_matching=_patterns(document, "keep_not_matching"),
            schedule_hours=_count(document, "schedule_hours", minimum=1),
        )
        rules = (
            policy.keep_newest,
            policy.keep_pulled_days,
            policy.keep_matching,
            policy.keep_not_matching,
        )
        if all(rule is None for rule in rules):
            raise RetentionPolicyError(
                "give at least one of keep_newest, keep_pulled_days, keep_matching,"
                " keep_not_matching"
            )
        return policy

    def to_dict(self) -> dict[str, Any]:
        """The document, with only the rules given."""
        shown: dict[str, Any] = {
            "keep_newest": self.keep_newest,
            "keep_pulled_days": self.keep_pulled_days,
            "keep_matching": None if self.keep_matching is None else list(self.keep_matching),
            "keep_not_matching": (
                None if self.keep_not_matching is None else list(self.keep_not_matching)
            ),
            "schedule_hours": self.schedule_hours,
        }
        return {key: value for key, value in shown.items() if value is not None}


def _count(document: dict[str, Any], key: str, *, minimum: int) -> int | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise RetentionPolicyError(f"{key} must be an integer of at least {minimum}")
    return value


def _patterns(document: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = document.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_PATTERNS
        or not all(isinstance(pattern, str) for pattern in value)
    ):
        raise RetentionPolicyError(f"{key} must be a list of 1 to {MAX_PATTERNS} tag patterns")
    try:
        return tuple(validate_pattern(pattern) for pattern in value)
    except PatternError as exc:
        raise RetentionPolicyError(f"{key}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class TagState:
    """What retention knows of a tag: its name, digest, push time and last pull (None: never)."""

    name: str
    digest: str
    pushed_at: datetime
    pulled_at: datetime | None


def tags_to_remove(
    policy: RetentionPolicy,
    tag_states: Iterable[TagState],
    now: datetime,
    immutable: Callable[[str], bool],
) -> list[TagState]:
    """The tags no keep-rule keeps and no immutability rule holds, in name order.

    Args:
        policy: the keep-rules.
        tag_states: every tag of the repository.
        now: the time "pulled within D days" counts back from.
        immutable: whether an immutability rule holds a tag name.
    """
    states = list(tag_states)
    kept: set[str] = set()
    if policy.keep_newest:
        newest = sorted(states, key=lambda tag: (tag.pushed_at, tag.name), reverse=True)
        kept.update(tag.name for tag in newest[: policy.keep_newest])
    if policy.keep_pulled_days is not None:
        since = now - timedelta(days=policy.keep_pulled_days)
        kept.update(tag.name for tag in states if tag.pulled_at and tag.pulled_at >= since)
    if policy.keep_matching is not None:
        kept.update(
            tag.name for tag in states if any(matches(tag.name, p) for p in policy.keep_matching)
        )
    if policy.keep_not_matching is not None:
        excluded = policy.keep_not_matching
        kept.update(tag.name for tag in states if not any(matches(tag.name, p) for p in excluded))
    going = [tag for tag in states if tag.name not in kept and not immutable(tag.name)]
    return sorted(going, key=lambda tag: tag.name)
