"""The access-control seam: every registry request is checked against the scope it needs.

The API layer derives the needed `Access` from the matched route (repository name + action)
and asks the configured `AccessController`. The open registry (`--no-auth`) allows everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aiohttp import web

from registry.db.hub_queries import Visibility

__all__ = ["Access", "AccessController", "AllowAll"]


@dataclass(frozen=True, slots=True)
class Access:
    """One resource and the actions wanted on it (Docker token-auth "scope")."""

    type: str  # "repository" or "registry"
    name: str  # repository name, or "catalog"
    actions: frozenset[str]
    # The spelling the client used, when it differs from `name` (a Notary GUN such as
    # `hub.example:5000/alice/app`): challenges repeat it so the client asks for that scope.
    asked_as: str | None = None


class AccessController(Protocol):
    async def authorize(self, request: web.Request, wanted: list[Access]) -> None:
        """Return when every wanted access is granted.

        Raises:
            UnauthorizedError: no or bad credentials (the API adds the challenge).
            DeniedError: authenticated, but not allowed.
        """

    async def allowed(self, request: web.Request, wanted: Access) -> bool:
        """True when the caller holds the access (for optional checks like mount sources)."""

    async def visibility(self, request: web.Request) -> Visibility:
        """Which repositories the caller may see, for the catalog."""


class AllowAll:
    """The open registry: no credentials, every action allowed."""

    async def authorize(self, request: web.Request, wanted: list[Access]) -> None:
        return None

    async def allowed(self, request: web.Request, wanted: Access) -> bool:
        return True

    async def visibility(self, request: web.Request) -> Visibility:
        return Visibility(everything=True)
