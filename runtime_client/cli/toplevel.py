"""Top-level commands outside any group: `login`, `logout`, `search`, `sign`."""

from __future__ import annotations

from runtime_client.cli.base import CommandGroup, Verb

__all__ = ["GROUP"]

GROUP = CommandGroup(
    name=None,
    help="",
    verbs=(
        Verb("login", "login", "Log in to a registry", shortcuts=("login",)),
        Verb("logout", "logout", "Log out from a registry", shortcuts=("logout",)),
        Verb("search", "search", "Search a registry for images", shortcuts=("search",)),
        Verb("sign", "sign", "Sign an image (cosign, Notation or Docker Content Trust)",
             shortcuts=("sign",)),
    ),
)
