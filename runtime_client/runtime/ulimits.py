"""`--ulimit TYPE=SOFT[:HARD]`: parsing with Docker's rules and the runtime-spec rlimits (pure).

Types are Docker's (`go-units`): core, cpu, data, fsize, locks, memlock, msgqueue, nice,
nofile, nproc, rss, rtprio, rttime, sigpending, stack. A missing HARD equals SOFT; -1 means
unlimited. The record keeps Docker's inspect shape, `{"Name", "Soft", "Hard"}`, one per type
(the last flag wins), sorted by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from runtime_client.container_errors import InvalidOptionError

__all__ = ["RLIMIT_TYPES", "UNLIMITED", "parse_ulimits", "spec_rlimits"]

UNLIMITED = -1
RLIM_INFINITY = (1 << 64) - 1  # what -1 becomes in the runtime spec's unsigned fields

RLIMIT_TYPES = {
    name: "RLIMIT_" + name.upper()
    for name in ("core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
                 "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack")
}


def _integer(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise InvalidOptionError(f'parsing "{text}": invalid syntax') from None


def parse_ulimit(value: str) -> dict[str, Any]:
    """One `--ulimit` value as `{"Name", "Soft", "Hard"}`.

    Raises:
        InvalidOptionError: an unknown type, a malformed number, or soft above hard (Docker's
            `invalid argument "V" for "--ulimit" flag: ...` wording).
    """
    try:
        name, sep, limits = value.partition("=")
        if not sep:
            raise InvalidOptionError(f"invalid ulimit argument: {value}")
        if name not in RLIMIT_TYPES:
            raise InvalidOptionError(f"invalid ulimit type: {name}")
        parts = limits.split(":")
        if len(parts) > 2:
            raise InvalidOptionError(f"too many limit value arguments - {limits}, can only "
                                     "have up to two, `soft[:hard]`")
        soft = _integer(parts[0])
        hard = _integer(parts[1]) if len(parts) == 2 else soft
        if hard != UNLIMITED and soft > hard:
            raise InvalidOptionError("ulimit soft limit must be less than or equal to hard "
                                     f"limit: {soft} > {hard}")
        if min(soft, hard) < UNLIMITED:
            raise InvalidOptionError(f"ulimit values must be -1 (unlimited) or more: {limits}")
    except InvalidOptionError as exc:
        raise InvalidOptionError(f'invalid argument "{value}" for "--ulimit" flag: {exc}'
                                 ) from None
    return {"Name": name, "Soft": soft, "Hard": hard}


def parse_ulimits(values: Iterable[str]) -> list[dict[str, Any]]:
    """All `--ulimit` values: one entry per type (the last wins), sorted by type.

    Raises:
        InvalidOptionError: a malformed value (see `parse_ulimit`).
    """
    by_name = {}
    for value in values:
        ulimit = parse_ulimit(value)
        by_name[ulimit["Name"]] = ulimit
    return [by_name[name] for name in sorted(by_name)]


def spec_rlimits(ulimits: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runtime spec's `process.rlimits` entries for recorded ulimits."""

    def raw(limit: int) -> int:
        return RLIM_INFINITY if limit == UNLIMITED else limit

    return [{"type": RLIMIT_TYPES[u["Name"]], "soft": raw(u["Soft"]), "hard": raw(u["Hard"])}
            for u in ulimits]
