"""The times `logs --since/--until` take, read as the docker CLI reads them.

A value is a Go duration before now (`10m`, `1h30m`, `1.5s`), a Unix timestamp
(`1136073600`, `1136073600.000000001`), or an RFC 3339 date or time (`2006-01-02`,
`2006-01-02T15:04:05`, `2006-01-02T15:04:05.999999999Z07:00`); one without a zone is the
host's local time, as Docker reads it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from runtime_client.container_errors import InvalidOptionError

__all__ = ["go_duration_error", "parse_log_time"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
                 "h": 3600.0}
_UNIX = re.compile(r"(\d+)(?:\.(\d{1,9}))?")
_DATE_TIME = re.compile(
    r"(\d{4}-\d\d-\d\d)(?:T(\d\d(?::\d\d(?::\d\d)?)?)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:\d\d)?")


def _duration(value: str) -> timedelta | None:
    """A Go duration (`1h30m`, `-5s`), or None when `value` is not one."""
    sign, body = (-1, value[1:]) if value.startswith("-") else (1, value.removeprefix("+"))
    if not body or body == "0":
        return None
    seconds, position = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            return None
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(body):
        return None
    return timedelta(seconds=sign * seconds)


def parse_log_time(flag: str, value: str, now: datetime) -> datetime:
    """The moment `value` names (timezone-aware), relative to `now` for durations.

    Raises:
        InvalidOptionError: nothing Docker would read as a time.
    """
    duration = _duration(value)
    if duration is not None:
        return now - duration
    unix = _UNIX.fullmatch(value)
    if unix is not None:
        nanos = int((unix.group(2) or "0").ljust(9, "0"))
        return datetime.fromtimestamp(int(unix.group(1)), UTC) + timedelta(
            microseconds=nanos // 1000)
    moment = _DATE_TIME.fullmatch(value)
    if moment is not None:
        day, clock, fraction, zone = moment.groups()
        clock = ":".join([*(clock or "00:00:00").split(":"), "00", "00"][:3])
        text = f"{day}T{clock}" + (f".{fraction[:6].ljust(6, '0')}" if fraction else "")
        try:
            parsed = datetime.fromisoformat(text + (zone or "").replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.astimezone()
    raise InvalidOptionError(
        f'invalid value for "{flag}": failed to parse value as time or duration: "{value}"')


_GO_UNITS = frozenset({"ns", "us", "µs", "μs", "ms", "s", "m", "h"})
_GO_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")


def go_duration_error(value: str) -> str | None:
    """What Go's `time.ParseDuration` says about `value` (None when it reads it as a duration).

    dockerd's build-cache prune takes `until` only as a Go duration and answers with this.
    """
    invalid = f'time: invalid duration "{value}"'
    rest = value[1:] if value[:1] in ("+", "-") else value
    if rest == "0":
        return None
    if not rest:
        return invalid
    while rest:
        if not (rest[0] == "." or rest[0].isdigit()):
            return invalid
        number = _GO_NUMBER.match(rest)
        if number is None or not (number.group(1) or number.group(2)):
            return invalid
        rest = rest[number.end():]
        length = 0
        while length < len(rest) and not (rest[length] == "." or rest[length].isdigit()):
            length += 1
        if length == 0:
            return f'time: missing unit in duration "{value}"'
        unit, rest = rest[:length], rest[length:]
        if unit not in _GO_UNITS:
            return f'time: unknown unit "{unit}" in duration "{value}"'
    return None
