"""The access check the hub hands to the trust (Notary) routes.

A Notary GUN is `<host:port>/<repository path>`: the host part is dropped and the rest maps to
the repository as registry names do (`busybox` is `library/busybox`; `registry.hub.names`).
Actions use the registry scope vocabulary: `pull` to read trust data, `push` (with `pull`) to
publish, `*` to rotate keys or delete trust data (repository owners and admins).

A request is checked twice (by the hub's authorisation middleware, for the route's rule, then
by the trust handler, for what the file asks); the second check of actions already granted on
the same GUN returns at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Set

from aiohttp import web

from registry import keys
from registry.auth.access import Access
from registry.errors import DeniedError, NameInvalidError
from registry.hub.names import repository_of_scope

__all__ = ["TrustAccessCheck", "check"]

TrustAccessCheck = Callable[[web.Request, str, Set[str]], Awaitable[None]]

# The GUN and the actions this request was found to hold on it.
_GRANTED = web.RequestKey("berth_trust_granted", tuple[str, frozenset[str]])


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
        NameInvalidError: the GUN names no repository this hub could hold.
        TooManyRequestsError: basic auth for a throttled account or address.
    """
    if not request.app[keys.SETTINGS].auth_enabled:
        return  # the open registry: every action allowed, names as written
    granted = request.get(_GRANTED)
    if granted is not None and granted[0] == gun and actions <= granted[1]:
        return
    if not gun:
        # The change feed of every repository: hub admins only.
        principal = await request.app[keys.AUTH].account(request)
        if not principal.acts_as_admin:
            raise DeniedError("admins only")
        return
    repository = repository_of_scope(gun)
    if repository is None:
        raise NameInvalidError(f"{gun!r} names no repository on this hub", name=gun)
    wanted = Access("repository", repository, frozenset(actions), asked_as=gun)
    await request.app[keys.ACCESS].authorize(request, [wanted])
    request[_GRANTED] = (gun, wanted.actions)
