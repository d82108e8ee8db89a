"""Proxy namespaces as configured: `[proxy.namespaces.<name>]` tables of the TOML file.

```toml
[proxy]
tag_ttl = 300                          # seconds a cached tag is served before revalidation

[proxy.namespaces.dockerhub]
url = "https://registry-1.docker.io"
username = "me"                        # optional, with password
password = "berth-sealed:v1:..."       # `berth-hub proxy seal-password dockerhub` prints it
expire_days = 7                        # optional: cached tags not pulled for this long go
```

Pure: values in, `ProxyNamespace` values out; opening sealed passwords is
`registry.proxy.credentials`' job.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from registry.hub.names import account_name_problem
from registry.sealedtext import is_sealed

logger = logging.getLogger(__name__)

__all__ = ["ProxyNamespace", "parse_namespaces"]

_KEYS = frozenset({"url", "username", "password", "expire_days"})
# Docker Hub serves official images only under `library/`, as Docker's own clients spell them.
_DOCKER_HUB_HOSTS = frozenset({"registry-1.docker.io", "docker.io", "index.docker.io"})


@dataclass(frozen=True, slots=True)
class ProxyNamespace:
    """One namespace of the hub served from an upstream registry."""

    name: str
    url: str  # the upstream's base URL, scheme and host[:port], no trailing slash
    username: str | None = None
    sealed_password: str | None = field(default=None, repr=False)
    expire_days: float | None = None  # days without a pull after which a cached tag goes

    def upstream_repository(self, repository: str) -> str:
        """The upstream's name for the hub's `repository` (`<name>/<path>`)."""
        path = repository.split("/", 1)[1]
        if urlsplit(self.url).hostname in _DOCKER_HUB_HOSTS and "/" not in path:
            return f"library/{path}"
        return path


def parse_namespaces(raw: Any) -> tuple[ProxyNamespace, ...]:
    """The `[proxy.namespaces]` table as values.

    Raises:
        ValueError: a table, name, URL or credential is malformed, or a password is not sealed.
    """
    if not isinstance(raw, Mapping):
        raise ValueError("proxy.namespaces wants a table of namespaces")
    parsed = []
    for name, table in raw.items():
        parsed.append(_parse_one(str(name), table))
    return tuple(sorted(parsed, key=lambda namespace: namespace.name))


def _parse_one(name: str, table: Any) -> ProxyNamespace:
    where = f"proxy.namespaces.{name}"
    problem = account_name_problem(name)
    if problem is not None:
        raise ValueError(f"{where}: {problem}")
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} wants a table with url (and optionally username, password)")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ValueError(
            f"{where}: unknown key {unknown[0]!r} (known: url, username, password, expire_days)"
        )
    url = table.get("url")
    if not isinstance(url, str):
        raise ValueError(f"{where}.url wants the upstream's URL, e.g. https://registry.example")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"{where}.url wants http(s)://host[:port], got {url!r}")
    username, password = table.get("username"), table.get("password")
    if (username is None) != (password is None):
        raise ValueError(f"{where}: username and password go together")
    if password is not None and not (isinstance(password, str) and is_sealed(password)):
        raise ValueError(
            f"{where}.password must be sealed: store the output of "
            f"`berth-hub proxy seal-password {name}`, never the password itself"
        )
    if username is not None and not isinstance(username, str):
        raise ValueError(f"{where}.username wants a string")
    expire_days = table.get("expire_days")
    if expire_days is not None and (
        isinstance(expire_days, bool)
        or not isinstance(expire_days, int | float)
        or not expire_days > 0
    ):
        raise ValueError(
            f"{where}.expire_days wants a positive number of days, got {expire_days!r}"
        )
    return ProxyNamespace(
        name,
        url.rstrip("/"),
        username,
        password,
        None if expire_days is None else float(expire_days),
    )
