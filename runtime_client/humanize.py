"""Docker's human-readable sizes and ages (go-units `HumanSize` / `HumanDuration`), pure."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["binary_size", "human_duration", "human_size", "parse_time", "since"]

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def _scaled(size: float, base: int, units: tuple[str, ...], digits: int) -> str:
    """`size` in the largest unit it reaches, with `digits` significant digits."""
    unit = 0
    while size >= base and unit < len(units) - 1:
        size /= base
        unit += 1
    return f"{size:.{digits}g}{units[unit]}"


def human_size(size: float, precision: int = 3) -> str:
    """`4.26MB`-style size with three significant digits (Docker's `HumanSizeWithPrecision`)
    and decimal units; `precision=4` is Docker's plain `HumanSize`."""
    return _scaled(size, 1000, _DECIMAL_UNITS, precision)


def binary_size(size: float) -> str:
    """Docker's `units.BytesSize`: `1.5MiB`, four significant digits and binary units."""
    return _scaled(size, 1024, _BINARY_UNITS, 4)


def human_duration(seconds: float) -> str:
    """`About an hour`-style duration, worded as Docker words it."""
    if seconds < 1:
        return "Less than a second"
    if int(seconds) == 1:
        return "1 second"
    if seconds < 60:
        return f"{int(seconds)} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def parse_time(value: str) -> datetime | None:
    """Parse an RFC 3339 timestamp as image configs carry it (nanoseconds allowed)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        zone = rest[len(digits):]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def since(value: str, now: datetime) -> str:
    """`3 weeks ago` for an RFC 3339 timestamp (`N/A` when there is none)."""
    created = parse_time(value)
    if created is None or created.year <= 1:
        return "N/A"
    return f"{human_duration(max(0.0, (now - created).total_seconds()))} ago"
