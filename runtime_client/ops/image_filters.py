"""`images --filter KEY=VALUE`: which images, and which of their names, a filter set keeps.

As dockerd decides: values of one key are alternatives, different keys must all hold, and
`label` values must all hold. `dangling=true|false` keeps images without (with) a tag;
`label` is `KEY` or `KEY=VALUE` of the image config's labels; `before`/`since` an image
created before or after the named one; `reference` a glob (`team/*`, `*:v1`) matched against
each familiar `repository:tag` and `repository`, and only the names it matches are listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from runtime_client.container_errors import InvalidOptionError
from runtime_client.humanize import parse_time
from runtime_client.images.store import Image

__all__ = ["ImageFilter", "parse_image_filters"]

_KEYS = ("dangling", "label", "before", "since", "reference")


@dataclass(frozen=True)
class ImageFilter:
    """Parsed `--filter` values by key (empty: keeps everything)."""

    values: dict[str, tuple[str, ...]]

    def __bool__(self) -> bool:
        return bool(self.values)

    def keeps(self, image: Image, created_of: Callable[[str], datetime | None]) -> bool:
        """Whether `image` passes the filters other than `reference`.

        Args:
            image: the image.
            created_of: an image reference -> its creation time.
        """
        created = parse_time(image.created)
        labels = (image.config.get("config") or {}).get("Labels") or {}
        for key, values in self.values.items():
            if key == "label":
                if not all(_has_label(labels, value) for value in values):
                    return False
            elif key == "dangling":
                if not any((value == "true") == (not image.repo_tags) for value in values):
                    return False
            elif key in ("before", "since") and not any(
                _ordered(created, created_of(value), before=key == "before") for value in values
            ):
                return False
        return True

    def keeps_name(self, familiar_name: str) -> bool:
        """Whether a familiar `repository:tag` (or `repository` for `<none>` tags) is listed."""
        patterns = self.values.get("reference")
        if not patterns:
            return True
        last = familiar_name.rsplit("/", 1)[-1]
        repository = familiar_name.rsplit(":", 1)[0] if ":" in last else familiar_name
        return any(_path_match(pattern, familiar_name) or _path_match(pattern, repository)
                   for pattern in patterns)


def _path_match(pattern: str, name: str) -> bool:
    """Go's path.Match: `*` and `?` never cross a `/`; `[...]` is a class."""
    regex, index = "", 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            regex += "[^/]*"
        elif char == "?":
            regex += "[^/]"
        elif char == "[" and "]" in pattern[index + 1:]:
            end = pattern.index("]", index + 1)
            body = pattern[index + 1:end]
            regex += "[" + ("^" + body[1:] if body.startswith("^") else body) + "]"
            index = end
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            regex += re.escape(pattern[index])
        else:
            regex += re.escape(char)
        index += 1
    try:
        return re.fullmatch(regex, name) is not None
    except re.error:
        return False


def _ordered(created: datetime | None, other: datetime | None, *, before: bool) -> bool:
    if created is None or other is None:
        return False
    return created < other if before else created > other


def _has_label(labels: dict[str, str], value: str) -> bool:
    key, sep, wanted = value.partition("=")
    return key in labels and (not sep or labels[key] == wanted)


def parse_image_filters(raw: Sequence[str]) -> ImageFilter:
    """`--filter` arguments as given.

    Raises:
        InvalidOptionError: no `=`, an unknown key, or a `dangling` value other than a boolean.
    """
    values: dict[str, list[str]] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidOptionError(f"bad format of filter (expected name=value): {item}")
        key = key.strip().lower()
        if key not in _KEYS:
            raise InvalidOptionError(f"Invalid filter '{key}'")  # dockerd 20.10's wording
        if key == "dangling":
            value = value.lower()
            if value not in ("true", "false", "1", "0"):
                raise InvalidOptionError(f"Invalid filter 'dangling={value}'")
            value = "true" if value in ("true", "1") else "false"
        values.setdefault(key, []).append(value)
    return ImageFilter({key: tuple(found) for key, found in values.items()})
