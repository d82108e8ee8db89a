"""Registry authentication: `WWW-Authenticate` challenges, Docker token exchange, Basic.

Scope: parsing challenges (RFC 7235 auth-params) and turning credentials plus a scope into an
`Authorization` header value; the HTTP calls go through the session the client hands in.
Docker's token protocol: on a 401 with `Bearer realm=...,service=...,scope=...`, GET the realm
with `service` and `scope` (Basic credentials when we have some) and use the `token` (or
`access_token`) it returns as a bearer token.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass, field

import aiohttp

from runtime_client.distribution.credentials import Credentials
from runtime_client.errors import AuthenticationError

__all__ = ["Challenge", "basic_header", "fetch_token", "parse_challenge"]

logger = logging.getLogger(__name__)

_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True, slots=True)
class Challenge:
    """One parsed `WWW-Authenticate` challenge."""

    scheme: str  # lower case: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge:
    """Parse `Bearer realm="...",service="...",scope="..."` (or `Basic realm=...`)."""
    scheme, _, rest = header.strip().partition(" ")
    params = {
        match.group(1).lower(): (match.group(2) if match.group(2) is not None else match.group(3))
        .replace('\\"', '"')
        for match in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def basic_header(credentials: Credentials) -> str:
    """`Basic base64(user:password)`."""
    token = f"{credentials.username}:{credentials.password}".encode()
    return "Basic " + base64.b64encode(token).decode()


async def fetch_token(
    session: aiohttp.ClientSession,
    challenge: Challenge,
    scopes: list[str],
    credentials: Credentials | None,
) -> str:
    """Exchange credentials (or nothing, for anonymous pulls) for a bearer token.

    Raises:
        AuthenticationError: the token endpoint refused, or returned no token.
    """
    realm = challenge.params.get("realm")
    if not realm:
        raise AuthenticationError("bearer challenge without a realm")
    query: list[tuple[str, str]] = []
    if challenge.params.get("service"):
        query.append(("service", challenge.params["service"]))
    for scope in scopes:
        query.append(("scope", scope))
    if credentials is not None and credentials.username != "<token>":
        query.append(("account", credentials.username))
    headers = {"Authorization": basic_header(credentials)} if credentials else {}
    async with session.get(realm, params=query, headers=headers) as response:
        body = await response.read()
        if response.status in (401, 403):
            raise AuthenticationError(
                "unauthorized: incorrect username or password", status=response.status
            )
        if response.status != 200:
            raise AuthenticationError(
                f"token endpoint {realm} answered {response.status}", status=response.status
            )
        try:
            data = await response.json(content_type=None)
        except ValueError as exc:
            raise AuthenticationError(f"token endpoint sent no JSON: {body[:200]!r}") from exc
    token = data.get("token") or data.get("access_token")
    if not token:
        raise AuthenticationError("token endpoint sent no token")
    return str(token)
