"""Small helpers the views share: the repository of the path, paging, the caller's address."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from registry.api.handlers.common import resolve_repository
from registry.api.hub.common import require_actions
from registry.auth.policy import Principal
from registry.auth.scopes import LIBRARY
from registry.errors import NameInvalidError, NotFoundError, RegistryError
from registry.web.render import USER

__all__ = [
    "Pager",
    "actor",
    "address",
    "display_name",
    "holds",
    "pager",
    "repository_from_path",
    "signed_in",
]

PAGE_SIZE = 25


def repository_from_path(request: web.Request) -> str:
    """The canonical repository name of the path (`busybox` means `library/busybox`).

    Raises:
        NotFoundError: not a valid name (a page answers 404, not NAME_INVALID).
    """
    try:
        return resolve_repository(request, request.match_info["repo"])
    except NameInvalidError as exc:
        raise NotFoundError("no such repository") from exc


def display_name(name: str) -> str:
    """Official images are shown without `library/`, as Docker Hub does."""
    return name.removeprefix(f"{LIBRARY}/")


def signed_in(request: web.Request) -> Principal:
    """The signed-in user of a route whose audience guarantees one."""
    return request[USER]


def actor(request: web.Request) -> str:
    """Who the audit log names: the signed-in user, "-" on an open registry without one."""
    user = request.get(USER)
    return user.name if user is not None else "-"


async def holds(request: web.Request, name: str, actions: set[str]) -> bool:
    """Whether the caller holds `actions` on a repository (to offer, or not, a control)."""
    try:
        await require_actions(request, name, actions)
    except RegistryError:
        return False
    return True


def address(request: web.Request) -> str:
    return request.remote or ""


@dataclass(frozen=True, slots=True)
class Pager:
    """One page of a listing: its 1-based number, size and the total count."""

    number: int
    size: int
    total: int = 0

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def with_total(self, total: int) -> Pager:
        return Pager(self.number, self.size, total)


def pager(request: web.Request, size: int = PAGE_SIZE) -> Pager:
    """The page the query asks for; anything unreadable means the first page."""
    raw = request.query.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < int(raw) < 1_000_000 else 1
    return Pager(number, size)
