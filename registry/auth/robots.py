"""Robot accounts as pure rules: what a robot's scope covers and which actions it holds.

A robot belongs to an organisation, never to a person. It holds a fixed set of actions
(`pull`, `push`, `delete`; `push` and `delete` include `pull`, as clients read before they
write) on the organisation's repositories its patterns match, plus what anyone holds (public
pulls), and nothing else: never `*`, never another namespace, never an account.

Patterns name repositories inside the organisation, relative to it (`app` is `acme/app`):
`*` matches any run of characters inside one path component (`ci-*`, `team/*`), and a
component `**` matches one or more whole components (`team/**`; `**` alone: every repository
of the organisation). Scope: no database, no HTTP; "now" is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

__all__ = [
    "MAX_PATTERNS",
    "ROBOT_ACTIONS",
    "Robot",
    "normalise_actions",
    "pattern_problem",
]

ROBOT_ACTIONS = ("pull", "push", "delete")
MAX_PATTERNS = 32
# A repository path component (OCI distribution-spec grammar) in which `*` may stand anywhere
# a letter may, or a whole `**`.
_COMPONENT = re.compile(r"\*\*|[a-z0-9*]+(?:(?:[._]|__|-+)[a-z0-9*]+)*")
_MAX_PATTERN_LENGTH = 255


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is no repository pattern, or None when it is one."""
    parts = pattern.split("/")
    if (
        not pattern
        or len(pattern) > _MAX_PATTERN_LENGTH
        or not all(_COMPONENT.fullmatch(part) for part in parts)
        or any("**" in part and part != "**" for part in parts)
    ):
        return (
            f"invalid repository pattern {pattern!r}: repository path components of lowercase"
            " letters, digits, '.', '_', '-' and '*', or a whole component '**'"
        )
    return None


def _regex(pattern: str) -> str:
    parts = []
    for part in pattern.split("/"):
        if part == "**":
            parts.append(r"[^/]+(?:/[^/]+)*")
        else:
            parts.append("[^/]*".join(re.escape(piece) for piece in part.split("*")))
    return "/".join(parts)


def normalise_actions(actions: Iterable[str]) -> frozenset[str]:
    """The actions a robot holds for the actions it was given (`push`/`delete` add `pull`).

    Raises:
        ValueError: an unknown action, or none at all.
    """
    given = frozenset(actions)
    if not given or not given <= frozenset(ROBOT_ACTIONS):
        raise ValueError(f"robot actions are {', '.join(ROBOT_ACTIONS)}")
    return given | {"pull"}


@dataclass(frozen=True)
class Robot:
    """An authenticated robot account.

    Attributes:
        robot_id: its row id.
        org: the organisation owning it (the only namespace it may act in).
        name: its short name; `login` is what it logs in as.
        login: `robot$<org>+<name>`.
        patterns: repository patterns relative to `org` (valid per `pattern_problem`).
        actions: what it holds on matching repositories (normalised).
        expires_at: Unix seconds after which it is refused.
        stamp: its creation time in microseconds (tells a recreated robot apart).
    """

    robot_id: int
    org: str
    name: str
    login: str
    patterns: tuple[str, ...]
    actions: frozenset[str]
    expires_at: int
    stamp: int

    @cached_property
    def _matcher(self) -> re.Pattern[str]:
        return re.compile("|".join(f"(?:{_regex(pattern)})" for pattern in self.patterns))

    def covers(self, repository: str) -> bool:
        """Whether a canonical repository name is inside the robot's scope."""
        namespace, sep, path = repository.partition("/")
        if not sep or namespace != self.org or not self.patterns:
            return False
        return self._matcher.fullmatch(path) is not None

    def actions_on(
        self, repository: str, *, is_public: bool, namespace_kind: str | None
    ) -> frozenset[str]:
        """The actions held on a repository: its scope's, plus a public repository's pull."""
        held: frozenset[str] = frozenset({"pull"}) if is_public else frozenset()
        if namespace_kind == "org" and self.covers(repository):
            held |= self.actions
        return held

    def is_expired(self, now: float) -> bool:
        """Whether the robot has expired at Unix time `now`."""
        return now >= self.expires_at
