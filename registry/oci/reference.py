"""Repository names, tags and references: the distribution-spec grammar, declared once.

The same expressions build the API routes (`registry.api.routes`) and validate input, and the
client uses them to split `host:port/name:tag@digest` strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.oci.digest import Digest, DigestError

__all__ = [
    "NAME_PATTERN",
    "TAG_PATTERN",
    "Reference",
    "ReferenceError",
    "is_valid_name",
    "is_valid_tag",
    "looks_like_host",
]

# distribution-spec "Pulling manifests": <name> components and separators.
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
NAME_PATTERN = rf"{_COMPONENT}(?:/{_COMPONENT})*"
TAG_PATTERN = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"
DIGEST_PATTERN = r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+"
# Docker's reference grammar: a first component with a dot, a colon or "localhost" is a host.
_HOST_PATTERN = (
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])"
    r"(?::[0-9]+)?"
)

# Matched with `fullmatch`: `$` would also match before a trailing newline.
_NAME_RE = re.compile(NAME_PATTERN)
_TAG_RE = re.compile(TAG_PATTERN)
_HOST_RE = re.compile(_HOST_PATTERN)
# Names longer than this are refused by common clients; the spec recommends a limit.
MAX_NAME_LENGTH = 255


class ReferenceError(ValueError):
    """A string is not a valid repository name, tag or reference."""


def is_valid_name(name: str) -> bool:
    """True when `name` matches the spec's repository-name expression."""
    return len(name) <= MAX_NAME_LENGTH and _NAME_RE.fullmatch(name) is not None


def is_valid_tag(tag: str) -> bool:
    """True when `tag` matches the spec's tag expression."""
    return _TAG_RE.fullmatch(tag) is not None


def looks_like_host(component: str) -> bool:
    """Docker's rule for the first component of a reference: a registry host when it holds a
    dot or a colon, or is `localhost` (`hub.example:5000/team/app`, `localhost/app`).
    """
    return "." in component or ":" in component or component == "localhost"


@dataclass(frozen=True, slots=True)
class Reference:
    """`[host[:port]/]name[:tag][@digest]`, as the Docker CLI writes image references."""

    host: str | None
    name: str
    tag: str | None = None
    digest: Digest | None = None

    @classmethod
    def parse(cls, value: str, default_host: str | None = None) -> Reference:
        """Split an image reference.

        Args:
            value: e.g. `hub.example:5000/team/app:1` or `app@sha256:...`.
            default_host: host to use when `value` names none.

        Raises:
            ReferenceError: when any part is invalid.
        """
        rest, digest = value, None
        if "@" in rest:
            rest, raw_digest = rest.split("@", 1)
            try:
                digest = Digest.parse(raw_digest)
            except DigestError as exc:
                raise ReferenceError(str(exc)) from exc
        tag = None
        last_slash = rest.rfind("/")
        colon = rest.rfind(":")
        if colon > last_slash:
            rest, tag = rest[:colon], rest[colon + 1 :]
            if not is_valid_tag(tag):
                raise ReferenceError(f"invalid tag {tag!r}")
        host = default_host
        first, _, remainder = rest.partition("/")
        if remainder and looks_like_host(first):
            if not _HOST_RE.fullmatch(first):
                raise ReferenceError(f"invalid registry host {first!r}")
            host, rest = first, remainder
        if not is_valid_name(rest):
            raise ReferenceError(f"invalid repository name {rest!r}")
        return cls(host, rest, tag, digest)

    @property
    def reference(self) -> str:
        """What goes after `/manifests/`: the digest when present, else the tag."""
        if self.digest is not None:
            return str(self.digest)
        return self.tag or "latest"

    def __str__(self) -> str:
        out = f"{self.host}/{self.name}" if self.host else self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out
