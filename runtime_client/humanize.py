"""Docker's human-readable sizes and ages (go-units `HumanSize` / `HumanDuration`), pure."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["human_duration", "human_size", "parse_time", "since"]

_DECIMAL_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float) -> str:
    """`4.26MB`-style size with three significant digits and decimal units."""
    unit = 0
    while size >= 1000 and unit < len(_DECIMAL_UNITS) - 1:
        size /= 1000
        unit += 1
    return f"{size:.3g}{_DECIMAL_UNITS[unit]}"


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
