"""The Hub's naming rules, declared once: account, organisation, team and repository names.

A namespace (a user's or an organisation's name) is the first component of its repositories'
names, so it must never read as a registry host. Docker takes a first component holding a dot
or a colon, or equal to `localhost`, as a host (`registry.oci.reference.looks_like_host`); a
namespace therefore has lowercase letters and digits, with single `-` or `_` between them, and
is not `localhost`. With that rule a Notary GUN (`host[:port]/team/app`) maps onto exactly one
repository, and a repository path never loses a component.

- Registry and Hub API routes name repositories by path: `alice/app`, or a bare `app` meaning
  the official `library/app`. The path is never host-stripped (`repository_of_path`).
- Trust routes and token scopes may name a Notary GUN; only there is a host dropped
  (`repository_of_scope`).

Every pattern is matched whole (`fullmatch`): `$` also matches before a trailing newline.
Scope: pure rules, no database; `registry.hub.accounts` and the API layer apply them.
"""

from __future__ import annotations

import functools
import re

from registry.oci.reference import is_valid_name, looks_like_host

__all__ = [
    "LIBRARY",
    "MAX_NAMESPACE_LENGTH",
    "RESERVED_NAMESPACES",
    "account_name_problem",
    "gun_path",
    "is_namespace_name",
    "path_problem",
    "repository_of_path",
    "repository_of_scope",
    "robot_name",
    "robot_name_problem",
    "robot_owner",
    "team_name_problem",
]

LIBRARY = "library"
MAX_NAMESPACE_LENGTH = 64  # characters; the namespaces.name column
NAMESPACE_PATTERN = r"[a-z0-9]+(?:[_-][a-z0-9]+)*"
# Team names never appear in repository names: dots are harmless there.
TEAM_PATTERN = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
# Names taken by the hub itself or by its URL space; `localhost` reads as a registry host.
RESERVED_NAMESPACES = frozenset({LIBRARY, "localhost", "v1", "v2", "api", "token", "_catalog"})

# A robot account logs in as `robot$<org>+<name>`: `$` and `+` appear in no user name, so a
# robot's login name can never be a user's, and Docker takes any user name without a colon.
ROBOT_PREFIX = "robot$"
_ROBOT_RE = re.compile(re.escape(ROBOT_PREFIX) + f"({NAMESPACE_PATTERN})\\+({NAMESPACE_PATTERN})")

_NAMESPACE_RE = re.compile(NAMESPACE_PATTERN)
_TEAM_RE = re.compile(TEAM_PATTERN)


def is_namespace_name(name: str) -> bool:
    """True when `name` may be the first component of a repository on the hub.

    `library` is one (the official images); reserved words other than it and anything Docker
    could read as a registry host are not.
    """
    if name == LIBRARY:
        return True
    return (
        len(name) <= MAX_NAMESPACE_LENGTH
        and _NAMESPACE_RE.fullmatch(name) is not None
        and not looks_like_host(name)
        and name not in RESERVED_NAMESPACES
    )


def account_name_problem(name: str) -> str | None:
    """Why `name` cannot be a new user or organisation, or None when it can."""
    if name in RESERVED_NAMESPACES:
        return f"{name!r} is reserved"
    if not is_namespace_name(name):
        return (
            f"invalid name {name!r}: use at most {MAX_NAMESPACE_LENGTH} lowercase letters and"
            " digits, with single '-' or '_' between them"
        )
    return None


def team_name_problem(name: str) -> str | None:
    """Why `name` cannot be a team's name, or None when it can."""
    if len(name) > MAX_NAMESPACE_LENGTH or _TEAM_RE.fullmatch(name) is None:
        return f"invalid team name {name!r}"
    return None


def repository_of_path(name: str) -> str | None:
    """The repository a registry or Hub API path names, or None when the hub cannot hold it.

    A bare `app` is `library/app`; nothing else is rewritten. The first component must be a
    namespace name, so `carol.dev/app` or `localhost/app` name no repository here.
    """
    if not is_valid_name(name):
        return None
    if "/" not in name:
        return f"{LIBRARY}/{name}"
    namespace = name.split("/", 1)[0]
    return name if is_namespace_name(namespace) else None


def path_problem(name: str) -> str:
    """Why `name` names no repository on the hub (for a path `repository_of_path` refused)."""
    namespace = name.split("/", 1)[0]
    if "/" in name and is_valid_name(name) and not is_namespace_name(namespace):
        return (
            f"{namespace!r} is no namespace on this hub: a name with '.' or ':', or"
            " 'localhost', reads as a registry host"
        )
    return "invalid repository name"


def gun_path(gun: str) -> str:
    """A Notary GUN without its registry host: `hub.example:5000/team/app` -> `team/app`.

    A GUN without a host-like first component is returned as it is.
    """
    first, sep, rest = gun.partition("/")
    return rest if sep and looks_like_host(first) else gun


@functools.lru_cache(maxsize=4096)  # asked several times per request, of a few names
def repository_of_scope(name: str) -> str | None:
    """The repository a token scope or Notary GUN names, or None when it names none.

    `hub.example:5000/alice/app` and `alice/app` both name `alice/app`; `localhost/busybox`
    and `busybox` name `library/busybox`. Since no namespace reads as a host, dropping a
    host-like first component can never turn one repository's name into another's.
    """
    return repository_of_path(gun_path(name))


def robot_name(org: str, name: str) -> str:
    """The login name of the robot `name` of organisation `org`: `robot$acme+ci`."""
    return f"{ROBOT_PREFIX}{org}+{name}"


def robot_name_problem(org: str, name: str) -> str | None:
    """Why `name` cannot be a new robot of `org`, or None when it can.

    The short name follows the namespace grammar; the login name fits the account columns.
    """
    if _NAMESPACE_RE.fullmatch(name) is None:
        return (
            f"invalid robot name {name!r}: use lowercase letters and digits, with single"
            " '-' or '_' between them"
        )
    if len(robot_name(org, name)) > MAX_NAMESPACE_LENGTH:
        return f"robot login names have at most {MAX_NAMESPACE_LENGTH} characters"
    return None


def robot_owner(login: str) -> tuple[str, str] | None:
    """The organisation and short name of a robot login name, or None for any other name."""
    match = _ROBOT_RE.fullmatch(login)
    return (match[1], match[2]) if match else None
