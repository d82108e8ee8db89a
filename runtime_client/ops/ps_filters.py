"""`ps --filter KEY=VALUE`: which containers a filter set keeps, as dockerd decides.

Values of one key are alternatives, different keys must all hold, except `label`, whose
values must all hold. `id` and `name` are unanchored regular expressions (a name is matched
as Docker stores it, `/name`, so `^/web$` is exact); `label` is `KEY` or `KEY=VALUE`;
`exited` an exit code of a stopped container; `status` a state; `ancestor` an image (name or
id) the container was made from; `before`/`since` a container created before or after it;
`network` a network name or id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from runtime_client.container_errors import InvalidOptionError
from runtime_client.humanize import parse_time
from runtime_client.runtime.container import Container, Status

__all__ = ["ContainerFilter", "parse_filters"]

STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")
_KEYS = ("id", "name", "label", "exited", "status", "ancestor", "before", "since", "network")


@dataclass(frozen=True)
class ContainerFilter:
    """Parsed `--filter` values by key (empty: keeps everything)."""

    values: dict[str, tuple[str, ...]]

    def __bool__(self) -> bool:
        return bool(self.values)

    def shows_stopped(self) -> bool:
        """Whether a `status` filter asks for stopped containers, which `ps` then lists
        without -a (an `exited` filter alone does not, as with dockerd)."""
        return any(status not in ("running", "paused") for status in self.values.get("status", ()))

    def keeps(self, container: Container, image_ids: Callable[[str], str | None],
              created_of: Callable[[str], datetime]) -> bool:
        """Whether `container` passes every filter.

        Args:
            container: the container, refreshed.
            image_ids: an image name or id -> its full id (None when unknown).
            created_of: a container name or id -> its creation time.
        """
        created = parse_time(container.created)
        checks = {
            "id": lambda v: re.search(v, container.id) is not None,
            "name": lambda v: re.search(v, "/" + container.name) is not None,
            "exited": lambda v: (container.status is Status.EXITED
                                 and container.state.exit_code == int(v)),
            "status": lambda v: container.status.value == v,
            "ancestor": lambda v: image_ids(v) == container.image_id or v == container.image,
            "before": lambda v: created < created_of(v),
            "since": lambda v: created > created_of(v),
            "network": lambda v: any(v in (name, att.network_id)
                                     for name, att in container.networks.items()),
        }
        for key, values in self.values.items():
            if key == "label":
                if not all(_has_label(container, value) for value in values):
                    return False
            elif not any(checks[key](value) for value in values):
                return False
        return True


def _has_label(container: Container, value: str) -> bool:
    key, sep, wanted = value.partition("=")
    return key in container.labels and (not sep or container.labels[key] == wanted)


def parse_filters(raw: Sequence[str]) -> ContainerFilter:
    """`--filter` arguments as given.

    Raises:
        InvalidOptionError: no `=`, an unknown key, a bad exit code, status or expression.
    """
    values: dict[str, list[str]] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidOptionError(f"bad format of filter (expected name=value): {item}")
        key = key.strip().lower()
        if key not in _KEYS:
            raise InvalidOptionError(f"Invalid filter '{key}'")  # dockerd 20.10's wording
        if key == "exited" and not value.lstrip("-").isdigit():
            raise InvalidOptionError(f'strconv.Atoi: parsing "{value}": invalid syntax')
        if key == "status" and value not in STATUSES:
            raise InvalidOptionError(f"Invalid filter 'status={value}'")
        if key in ("id", "name"):
            try:
                re.compile(value)
            except re.error as exc:
                raise InvalidOptionError(f"invalid filter '{key}={value}': {exc}") from None
        values.setdefault(key, []).append(value)
    return ContainerFilter({key: tuple(found) for key, found in values.items()})
