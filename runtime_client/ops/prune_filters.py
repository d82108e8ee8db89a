"""`prune --filter KEY=VALUE`: what `image`, `container`, `network` and `system prune` may
remove, as dockerd decides.

dockerd's rules (API `POST /{images,containers,networks}/prune`): `until` (one value: a Go
duration before now, a Unix timestamp or an RFC 3339 date or time, as `timefilter` reads
them) keeps whatever was created after that moment; `label` values (`KEY` or `KEY=VALUE`) must
all hold for an object to go; `label!` values spare an object when all of them hold. Images
also take `dangling`: `false` (or `0`) among its values prunes tagged images too, as `-a`
does. Each kind refuses the keys it does not know. Keys are lowercased and values trimmed, as
the docker CLI sends them. "Now" is a parameter: the module does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from runtime_client.container_errors import InvalidOptionError
from runtime_client.errors import UsageError
from runtime_client.timefilter import parse_log_time

__all__ = [
    "CONTAINER_KEYS",
    "IMAGE_KEYS",
    "NETWORK_KEYS",
    "VOLUME_KEYS",
    "PruneFilter",
    "parse_prune_filters",
]

IMAGE_KEYS = frozenset({"dangling", "label", "label!", "until"})
CONTAINER_KEYS = frozenset({"label", "label!", "until"})
NETWORK_KEYS = frozenset({"label", "label!", "until"})
VOLUME_KEYS = frozenset({"label", "label!"})


@dataclass(frozen=True)
class PruneFilter:
    """Parsed prune filters (the default keeps nothing back)."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    until: datetime | None = None  # set by `validated`

    def validated(self, accepted: frozenset[str], now: datetime) -> PruneFilter:
        """These filters checked for one kind of object, with `until` read, in dockerd's order.

        Args:
            accepted: the keys this kind takes.
            now: the moment durations count back from.

        Raises:
            InvalidOptionError: a key outside `accepted`, more than one `until`, or one that
                is not a time.
        """
        for key in sorted(self.values):
            if key not in accepted:
                raise InvalidOptionError(f"Invalid filter '{key}'")
        until = self.values.get("until", ())
        if len(until) > 1:
            raise InvalidOptionError("more than one until filter specified")
        if not until:
            return self
        try:
            moment = parse_log_time("until", until[0], now)
        except InvalidOptionError:
            raise InvalidOptionError(
                f'failed to parse value as time or duration: "{until[0]}"') from None
        return replace(self, until=moment)

    @property
    def prunes_tagged(self) -> bool:
        """Whether `dangling=false` (or `0`) asks for tagged images too."""
        return any(v in ("false", "0") for v in self.values.get("dangling", ()))

    def allows(self, created: datetime | None, labels: Mapping[str, str] | None) -> bool:
        """Whether an object created at `created` with `labels` may be pruned."""
        if self.until is not None and created is not None and created > self.until:
            return False
        labels = labels or {}
        wanted = self.values.get("label", ())
        if wanted and not _all_hold(wanted, labels):
            return False
        spared = self.values.get("label!", ())
        return not (spared and _all_hold(spared, labels))


def _all_hold(values: Sequence[str], labels: Mapping[str, str]) -> bool:
    """dockerd's `MatchKVList`: every `KEY` or `KEY=VALUE` holds (never on no labels)."""
    if not labels:
        return False
    for value in values:
        key, sep, wanted = value.partition("=")
        if key not in labels or (sep and labels[key] != wanted):
            return False
    return True


def parse_prune_filters(raw: Sequence[str]) -> PruneFilter:
    """`--filter` arguments as given (checked per kind of object by `validated`).

    Raises:
        UsageError: no `=` (the docker CLI refuses it, exit 125).
    """
    values: dict[str, list[str]] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f'invalid argument "{item}" for "--filter" flag: bad format '
                             "of filter (expected name=value)")
        key, value = key.strip().lower(), value.strip()
        if value not in values.setdefault(key, []):
            values[key].append(value)
    return PruneFilter({key: tuple(found) for key, found in values.items()})
