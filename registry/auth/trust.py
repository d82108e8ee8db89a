"""The access check the hub hands to the trust (Notary) routes.

A Notary GUN is `<host:port>/<repository path>`: the host part is dropped and the rest maps to
the repository as registry names do (`busybox` is `library/busybox`). Actions use the registry
scope vocabulary: `pull` to read trust data, `push` (with `pull`) to publish, `*` to rotate
keys or delete trust data (repository owners and admins).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Set

from aiohttp import web

from registry import keys
from registry.auth.access import Access
from registry.errors import DeniedError

__all__ = ["TrustAccessCheck", "check"]

TrustAccessCheck = Callable[[web.Request, str, Set[str]], Awaitable[None]]


async def check(request: web.Request, gun: str, actions: Set[str]) -> None:
    """Return when the caller holds `actions` on the repository behind `gun`.

    Args:
        request: the trust request (its credentials are the registry's: bearer token with a
            `repository:<gun>:...` access entry, or basic auth).
        gun: the Notary GUN, e.g. `127.0.0.1:5000/alice/app`; "" for the change feed of
            every repository (hub admins only).
        actions: e.g. `{"pull"}`, `{"pull", "push"}` or `{"*"}`.

    Raises:
        UnauthorizedError: no or bad credentials; carries `headers` with the Bearer challenge
            `scope="repository:<gun>:<actions>"` (the hub's error middleware sends it).
        DeniedError: authenticated but not allowed.
        TooManyRequestsError: basic auth for a throttled account or address.
    """
    if not gun:
        # The change feed of every repository: hub admins only.
        principal = await request.app[keys.AUTH].account(request)
        if not principal.acts_as_admin:
            raise DeniedError("admins only")
        return
    wanted = Access("repository", gun, frozenset(actions))
    await request.app[keys.ACCESS].authorize(request, [wanted])
