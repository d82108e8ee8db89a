"""Replication rules as values: parsed and checked from a JSON document, pure.

```json
{"name": "to-dr", "direction": "push", "url": "https://dr.example:5000",
 "username": "bot", "password": "...", "tls_verify": true, "ca_pem": null,
 "repositories": "team/*", "tags": "v*", "destination": "mirror",
 "on_push": true, "schedule_minutes": 60}
```

`direction` is `push` (from this hub to the remote) or `pull` (from the remote into this hub).
`repositories` is a glob over full repository names on the source side (`team/*`, `*`),
`tags` a tag glob (`registry.hub.tag_patterns`); `destination`, when given, is put in front
of each repository name on the destination side (`mirror/team/app`). `on_push` only
applies to push rules; `schedule_minutes` runs the rule every so many minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from registry.hub.tag_patterns import PatternError, validate_pattern

__all__ = ["Direction", "RuleError", "RuleSpec", "destination_name", "repository_matches"]

PUSH, PULL = "push", "pull"
Direction = str
MAX_SCHEDULE_MINUTES = 366 * 24 * 60

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_REPO_GLOB = re.compile(r"[a-z0-9._/*?\[\]!-]{1,255}")
_PREFIX = re.compile(r"([a-z0-9]+(?:[._-][a-z0-9]+)*)(/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
_KEYS = frozenset({
    "name", "direction", "url", "username", "password", "tls_verify", "ca_pem",
    "repositories", "tags", "destination", "on_push", "schedule_minutes", "enabled",
})  # fmt: skip


class RuleError(ValueError):
    """A rule document is malformed."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as its creator gave it (the password in the clear, before sealing)."""

    name: str
    direction: Direction
    url: str
    repositories: str
    tags: str = "*"
    destination: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls_verify: bool = True
    ca_pem: str | None = field(default=None, repr=False)
    on_push: bool = False
    schedule_minutes: int | None = None
    enabled: bool = True

    @classmethod
    def from_dict(cls, raw: Any) -> RuleSpec:
        """The rule a JSON document describes.

        Raises:
            RuleError: naming the first field that is wrong.
        """
        if not isinstance(raw, dict):
            raise RuleError("a rule is a JSON object")
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise RuleError(f"unknown field {unknown[0]!r}")
        name = _string(raw, "name")
        if _NAME.fullmatch(name) is None:
            raise RuleError("name: 1 to 64 of a-z, 0-9, '.', '_', '-', starting alphanumeric")
        direction = _string(raw, "direction")
        if direction not in (PUSH, PULL):
            raise RuleError("direction is 'push' (hub to remote) or 'pull' (remote to hub)")
        url = _string(raw, "url").rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise RuleError(f"url wants http(s)://host[:port], got {url!r}")
        repositories = _string(raw, "repositories")
        if _REPO_GLOB.fullmatch(repositories) is None:
            raise RuleError("repositories: a glob over repository names, e.g. 'team/*'")
        tags = _string(raw, "tags", "*")
        try:
            validate_pattern(tags)
        except PatternError as exc:
            raise RuleError(f"tags: {exc}") from exc
        destination = _string(raw, "destination", "").strip("/")
        if destination and _PREFIX.fullmatch(destination) is None:
            raise RuleError("destination: a repository name prefix, e.g. 'mirror' or 'dr/team'")
        username, password = _optional(raw, "username"), _optional(raw, "password")
        if (username is None) != (password is None):
            raise RuleError("username and password go together")
        on_push = _bool(raw, "on_push", False)
        if on_push and direction != PUSH:
            raise RuleError("on_push applies to push rules only")
        schedule = raw.get("schedule_minutes")
        if schedule is not None and (
            not isinstance(schedule, int)
            or isinstance(schedule, bool)
            or not 1 <= schedule <= MAX_SCHEDULE_MINUTES
        ):
            raise RuleError(f"schedule_minutes: 1 to {MAX_SCHEDULE_MINUTES}, or null")
        return cls(
            name=name,
            direction=direction,
            url=url,
            repositories=repositories,
            tags=tags,
            destination=destination,
            username=username,
            password=password,
            tls_verify=_bool(raw, "tls_verify", True),
            ca_pem=_optional(raw, "ca_pem"),
            on_push=on_push,
            schedule_minutes=schedule,
            enabled=_bool(raw, "enabled", True),
        )


def repository_matches(repository: str, pattern: str) -> bool:
    """Whether the whole repository name matches the glob (`*` crosses `/`, as in Harbor)."""
    return fnmatchcase(repository, pattern)


def destination_name(repository: str, prefix: str) -> str:
    """The destination's name for `repository` under `prefix` ("" keeps it)."""
    return f"{prefix}/{repository}" if prefix else repository


def _string(raw: dict[str, Any], key: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or (default is None and not value):
        raise RuleError(f"{key} wants a string")
    return value


def _optional(raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise RuleError(f"{key} wants a non-empty string or null")
    return value


def _bool(raw: dict[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise RuleError(f"{key} wants true or false")
    return value
