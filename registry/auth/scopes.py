"""Docker token-auth scopes, as pure functions.

A scope is `type:name:actions` (`repository:alice/app:pull,push`, `registry:catalog:*`); the
name may itself hold colons when it is a Notary GUN (`127.0.0.1:5000/alice/app`), so the type
ends at the first colon and the actions start after the last. Which repository a name means
is `registry.hub.names`' business.
"""

from __future__ import annotations

from registry.auth.access import Access
from registry.hub.names import LIBRARY

__all__ = [
    "LIBRARY",
    "format_challenge_scope",
    "namespace_of",
    "parse_scope",
]


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
    return f"{access.type}:{access.asked_as or access.name}:{actions}"


def namespace_of(repository: str) -> str:
    """The namespace (first component) of a canonical repository name."""
    return repository.split("/", 1)[0]
