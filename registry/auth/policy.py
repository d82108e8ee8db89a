"""Who may do what on a repository: roles, token scopes and visibility, as pure rules.

- Admins may do everything, everywhere (unless their token's scopes say less).
- A user owns the namespace named after them; organizations grant roles to teams on the whole
  namespace or on single repositories: `read` pulls, `write` also pushes, `owner` also deletes
  and manages trust keys (`*`).
- `library/` holds the official images: only admins push there.
- Anyone, anonymous included, pulls a public repository.
- A personal access token narrows its owner's rights to its scopes: `read` (pull), `write`
  (pull, push), `delete` (pull, delete), `admin` (everything the owner may do).
- Account actions need a token scope too (see `token_scope_allows`): every scope reads the
  account, `write` also stars, only `admin` manages tokens, passwords and organisations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from registry.auth.scopes import LIBRARY

__all__ = [
    "ALL_ACTIONS",
    "ROLES",
    "TOKEN_SCOPES",
    "Principal",
    "RepositoryFacts",
    "best_role",
    "granted_actions",
    "token_scope_allows",
]

ALL_ACTIONS = frozenset({"pull", "push", "delete", "*"})
ROLE_ACTIONS = {
    "read": frozenset({"pull"}),
    "write": frozenset({"pull", "push"}),
    "owner": ALL_ACTIONS,
}
ROLES = tuple(ROLE_ACTIONS)  # weakest first
SCOPE_ACTIONS = {
    "read": frozenset({"pull"}),
    "write": frozenset({"pull", "push"}),
    "delete": frozenset({"pull", "delete"}),
    "admin": ALL_ACTIONS,
}
TOKEN_SCOPES = tuple(SCOPE_ACTIONS)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user, possibly narrowed by a personal access token."""

    user_id: int
    name: str
    is_admin: bool
    token_id: int | None = None  # the personal access token used, if any
    scopes: frozenset[str] | None = None  # that token's scopes; None: the full account
    stamp: int = 0  # the account's creation time (microseconds): tells a recreated account apart

    @property
    def acts_as_admin(self) -> bool:
        """An admin whose credentials allow admin work (a password or an `admin` token)."""
        return self.is_admin and (self.scopes is None or "admin" in self.scopes)

    def may_use_scope(self, scope: str) -> bool:
        """Whether the credentials allow what token scope `scope` allows (`read`, `write`, ...)."""
        return token_scope_allows(self.scopes, scope)


def token_scope_allows(scopes: frozenset[str] | None, needed: str) -> bool:
    """Whether credentials with these token scopes may do what `needed` allows.

    Args:
        scopes: a personal access token's scopes; None for a password (the full account).
        needed: `read`, `write`, `delete` or `admin`.
    """
    if scopes is None or "admin" in scopes:
        return True
    if needed == "read":
        return any(scope in SCOPE_ACTIONS for scope in scopes)
    return needed in scopes


@dataclass(frozen=True, slots=True)
class RepositoryFacts:
    """What the rules need to know about one repository and one caller."""

    repository: str  # canonical name
    namespace_kind: str | None  # "user", "org", "library", or None: no such namespace
    is_public: bool
    role: str | None  # the caller's best granted role there, if any


def best_role(roles: Iterable[str]) -> str | None:
    """The strongest of several roles (`owner` > `write` > `read`)."""
    ranked = [role for role in roles if role in ROLE_ACTIONS]
    return max(ranked, key=ROLES.index) if ranked else None


def granted_actions(principal: Principal | None, facts: RepositoryFacts) -> frozenset[str]:
    """The actions the caller holds on the repository.

    Args:
        principal: the caller, None for anonymous.
        facts: the repository's namespace, visibility and the caller's granted role.
    """
    actions: frozenset[str] = frozenset({"pull"}) if facts.is_public else frozenset()
    if principal is None:
        return actions
    namespace = facts.repository.split("/", 1)[0]
    owns_namespace = facts.namespace_kind == "user" and namespace == principal.name
    if principal.is_admin or owns_namespace:
        actions = ALL_ACTIONS
    elif facts.role is not None:
        role_actions = ROLE_ACTIONS[facts.role]
        if namespace == LIBRARY:
            role_actions = role_actions & {"pull"}
        actions = actions | role_actions
    if principal.scopes is not None:
        allowed: frozenset[str] = frozenset()
        for scope in principal.scopes:
            allowed |= SCOPE_ACTIONS.get(scope, frozenset())
        actions = actions & allowed
    return actions
