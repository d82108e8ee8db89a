"""Image names: how a user's `name[:tag][@digest]` becomes a canonical stored name and back.

Stored names always carry the registry host (`127.0.0.1:5000/team/app:1`), so that changing
the default registry never silently renames an image. Names shown to the user drop the default
registry's host, as the Docker CLI drops `docker.io/library/` ("familiar" names). As in Docker,
only `docker.io` gets the implicit `library/` namespace.
"""

from __future__ import annotations

import re

from registry.oci.reference import Reference, ReferenceError
from runtime_client.errors import InvalidReferenceError

__all__ = ["DOCKER_HUB", "familiar", "is_image_id", "parse_reference", "repository_of"]

DOCKER_HUB = "docker.io"
_ID_RE = re.compile(r"^(?:sha256:)?[a-f0-9]{64}$")


def is_image_id(value: str) -> bool:
    """True for a full image ID, with or without the `sha256:` prefix."""
    return _ID_RE.match(value) is not None


def parse_reference(
    value: str, default_registry: str, default_tag: str | None = "latest"
) -> Reference:
    """Parse a user-typed reference into a canonical one (host always set).

    Args:
        value: e.g. `app`, `team/app:1`, `host:5000/app@sha256:...`.
        default_registry: host used when `value` names none.
        default_tag: tag used when `value` has neither tag nor digest (None: leave unset).

    Raises:
        InvalidReferenceError: `value` is not a valid reference.
    """
    if value != value.strip() or not value:
        raise InvalidReferenceError(f'invalid reference format: "{value}"')
    try:
        ref = Reference.parse(value, default_host=default_registry)
    except ReferenceError as exc:
        raise InvalidReferenceError(f"invalid reference format: {exc}") from exc
    host = ref.host or default_registry
    name = ref.name
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = DOCKER_HUB
    if host == DOCKER_HUB and "/" not in name:
        name = f"library/{name}"
    tag = ref.tag
    if tag is None and ref.digest is None:
        tag = default_tag
    return Reference(host, name, tag, ref.digest)


def repository_of(ref: Reference) -> str:
    """`host/name`, the key tags and repo digests are stored under."""
    return f"{ref.host}/{ref.name}"


def familiar(name: str, default_registry: str) -> str:
    """Drop the default registry's host (and Docker Hub's `library/`) from a stored name."""
    host, _, rest = name.partition("/")
    if host != default_registry:
        return name
    if host == DOCKER_HUB and rest.startswith("library/") and rest.count("/") == 1:
        return rest[len("library/") :]
    return rest
