"""Docker token-auth scopes and the Hub's naming rules, as pure functions.

A scope is `type:name:actions` (`repository:alice/app:pull,push`, `registry:catalog:*`); the
name may itself hold colons when it is a Notary GUN (`127.0.0.1:5000/alice/app`), so the type
ends at the first colon and the actions start after the last. Repository names map onto
namespaces as on Docker Hub: the first component is the namespace, and a bare `name` means
`library/name` (the official images).
"""

from __future__ import annotations

from registry.auth.access import Access

__all__ = [
    "LIBRARY",
    "canonical_repository",
    "format_challenge_scope",
    "namespace_of",
    "parse_scope",
]

LIBRARY = "library"


def parse_scope(text: str) -> Access | None:
    """The `Access` a scope string asks for, or None when it is malformed.

    Args:
        text: e.g. `repository:alice/app:pull,push` or `repository(plugin):x:pull`.
    """
    kind, sep, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    kind = kind.split("(", 1)[0]  # `repository(plugin)`: the class does not change access
    wanted = frozenset(action for action in actions.split(",") if action)
    return Access(kind, name, wanted)


def format_challenge_scope(access: Access) -> str:
    """`type:name:actions` with actions in a stable order (pull before push)."""
    order = {"pull": 0, "push": 1, "delete": 2, "*": 3}
    actions = ",".join(sorted(access.actions, key=lambda a: (order.get(a, 9), a)))
    return f"{access.type}:{access.name}:{actions}"


def strip_host(name: str) -> str:
    """`host[:port]/team/app` -> `team/app` (Docker's rule: a first component with a dot, a
    colon or `localhost` is a registry host); a name without a host is returned as it is.
    """
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return rest
    return name


def canonical_repository(name: str) -> str:
    """The repository a name (or a Notary GUN `host:port/name`) refers to on this hub.

    `busybox` and `127.0.0.1:5000/busybox` both mean `library/busybox`.
    """
    name = strip_host(name)
    return name if "/" in name else f"{LIBRARY}/{name}"


def namespace_of(repository: str) -> str:
    """The namespace (first component) of a canonical repository name."""
    return repository.split("/", 1)[0]
