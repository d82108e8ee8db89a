"""Docker token authentication for the registry API: the `AccessController` of a hub with auth.

Per request, credentials become an `Identity` once (kept on the request):

- `Authorization: Bearer <jwt>`: the token is verified (cached by its text), and the actions
  wanted must be in its `access` claim. No database work, except for tokens minted from a
  personal access token (see `registry.auth.revocations`).
- `Authorization: Basic ...`: a password or access token checked by the `Authenticator`, then
  the grants computed from the database (for simple clients; slower).
- nothing: 401 with the `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge
  that sends Docker clients to the token endpoint (anonymous tokens for public pulls).

A bearer token without an action gets 401 with a challenge naming the scope and
`error="insufficient_scope"` (code UNAUTHORIZED when anonymous, DENIED for a user), as
Distribution and Notary answer, so a client may fetch a token with more scope; a user
authenticated with basic auth gets 403 DENIED. A token granting `*` on a
repository covers every action there (only owners get `*`).
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from registry.auth.access import Access
from registry.auth.authenticator import Authenticator
from registry.auth.grants import Grants
from registry.auth.policy import Principal
from registry.auth.revocations import RevocationCache
from registry.auth.scopes import canonical_repository, format_challenge_scope
from registry.auth.tokens import InvalidTokenError, TokenClaims, TokenVerifier
from registry.errors import (
    DeniedError,
    InsufficientScopeError,
    RegistryError,
    UnauthorizedError,
)

logger = logging.getLogger(__name__)

__all__ = ["IDENTITY", "Identity", "TokenAccessController", "parse_basic"]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling: a user (by password or token), an anonymous bearer, or nobody."""

    subject: str  # user name; "" for anonymous
    principal: Principal | None = None  # set for basic auth
    claims: TokenClaims | None = None  # set for bearer tokens

    @property
    def has_credentials(self) -> bool:
        return self.principal is not None or self.claims is not None


NOBODY = Identity("")
IDENTITY = web.RequestKey("berth_identity", Identity)


def parse_basic(value: str) -> tuple[str, str]:
    """User name and secret from a basic-auth header value.

    Raises:
        ValueError: not base64 of `user:secret`.
    """
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("malformed basic credentials") from exc
    username, sep, secret = decoded.partition(":")
    if not sep:
        raise ValueError("malformed basic credentials")
    return username, secret


# A host name or IP address with an optional port: nothing that could end the quoted realm.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def _quoted(value: str) -> str:
    """An RFC 9110 quoted-string: a name from the path cannot end the parameter early."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _origin_host(request: web.Request) -> str:
    """The request's Host when it is a plain host[:port], else the address it reached."""
    if _HOST.fullmatch(request.host):
        return request.host
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    if not sockname:
        return "localhost"
    host, port = sockname[0], sockname[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _same_resource(granted: Access, wanted: Access) -> bool:
    if granted.type != wanted.type:
        return False
    if wanted.type != "repository":
        return granted.name == wanted.name
    return canonical_repository(granted.name) == canonical_repository(wanted.name)


class TokenAccessController:
    """Checks registry requests against bearer tokens or basic credentials.

    Args:
        service: the token audience (`service=` of the challenge).
        realm: the token endpoint URL; None: `<scheme>://<host>/token` of each request.
        verifier: bearer-token verification.
        authenticator: password and access-token checks.
        grants: repository grants from the database.
        revocations: whether access tokens behind bearer tokens still stand.
    """

    def __init__(
        self,
        *,
        service: str,
        realm: str | None,
        verifier: TokenVerifier,
        authenticator: Authenticator,
        grants: Grants,
        revocations: RevocationCache,
    ) -> None:
        self.service = service
        self.realm = realm
        self.verifier = verifier
        self.authenticator = authenticator
        self.grants = grants
        self.revocations = revocations

    def challenge(self, request: web.Request, wanted: Access | None, error: str | None) -> str:
        """The `WWW-Authenticate` value sending the client to the token endpoint."""
        realm = self.realm or f"{request.scheme}://{_origin_host(request)}/token"
        params = {"realm": realm, "service": self.service}
        if wanted is not None and wanted.actions:
            params["scope"] = format_challenge_scope(wanted)
        if error:
            params["error"] = error
        return "Bearer " + ",".join(f"{key}={_quoted(value)}" for key, value in params.items())

    def unauthorized(
        self, request: web.Request, wanted: Access | None, message: str, error: str | None = None
    ) -> UnauthorizedError:
        """An UnauthorizedError carrying the Bearer challenge for `wanted`."""
        exc = UnauthorizedError(message)
        exc.headers = {"WWW-Authenticate": self.challenge(request, wanted, error)}  # type: ignore[attr-defined]
        return exc

    async def identify(self, request: web.Request, wanted: Access | None = None) -> Identity:
        """The caller's identity (checked once per request).

        Raises:
            UnauthorizedError: malformed, invalid, expired or revoked credentials.
            TooManyRequestsError: basic auth for a throttled account or address.
        """
        known = request.get(IDENTITY)
        if known is not None:
            return known
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            try:
                claims = await self.verifier.check(value.strip(), now=int(time.time()))
            except InvalidTokenError as exc:
                raise self.unauthorized(request, wanted, str(exc), "invalid_token") from exc
            if claims.token_id is not None and not await self.revocations.active(claims.token_id):
                raise self.unauthorized(request, wanted, "token revoked", "invalid_token")
            identity = Identity(claims.subject, claims=claims)
        elif scheme == "basic":
            try:
                username, secret = parse_basic(value)
            except ValueError as exc:
                raise self.unauthorized(request, wanted, str(exc)) from exc
            try:
                principal = await self.authenticator.login(username, secret, request.remote or "")
            except UnauthorizedError as exc:
                raise self.unauthorized(request, wanted, exc.message or "unauthorized") from exc
            identity = Identity(principal.name, principal=principal)
        else:
            identity = NOBODY
        request[IDENTITY] = identity
        return identity

    async def held(self, identity: Identity, wanted: Access) -> frozenset[str]:
        """The subset of the wanted actions the identity holds."""
        if identity.claims is not None:
            actions: frozenset[str] = frozenset()
            for granted in identity.claims.access:
                if _same_resource(granted, wanted):
                    actions |= granted.actions
                    if "*" in granted.actions:
                        # `*` is minted only for those holding every action on the resource;
                        # notary asks for `*` alone and then publishes (push) with that token.
                        actions |= wanted.actions
            return actions & wanted.actions
        if identity.principal is not None:
            return await self.grants.actions(identity.principal, wanted)
        return frozenset()

    async def authorize(self, request: web.Request, wanted: list[Access]) -> None:
        first = wanted[0] if wanted else None
        identity = await self.identify(request, first)
        if not identity.has_credentials:
            raise self.unauthorized(request, first, "authentication required")
        for access in wanted:
            missing = access.actions - await self.held(identity, access)
            if not missing:
                continue
            if not identity.subject:
                raise self.unauthorized(
                    request, access, "authentication required", "insufficient_scope"
                )
            detail = {"name": access.name, "missing": sorted(missing)}
            if identity.principal is not None:  # basic auth: nothing more to ask for
                raise DeniedError("requested access to the resource is denied", **detail)
            exc = InsufficientScopeError("requested access to the resource is denied", **detail)
            exc.headers = {  # type: ignore[attr-defined]
                "WWW-Authenticate": self.challenge(request, access, "insufficient_scope")
            }
            raise exc

    async def allowed(self, request: web.Request, wanted: Access) -> bool:
        try:
            await self.authorize(request, [wanted])
        except RegistryError:
            return False
        return True

    async def principal(self, request: web.Request) -> Principal | None:
        """The user behind the request's credentials (None for anonymous).

        Raises:
            UnauthorizedError: invalid credentials, or a token whose user is gone.
        """
        identity = await self.identify(request)
        if identity.principal is not None or not identity.subject:
            return identity.principal
        token_id = identity.claims.token_id if identity.claims is not None else None
        principal = await self.authenticator.principal(identity.subject, token_id)
        if principal is None:
            raise self.unauthorized(request, None, "the token's user is gone", "invalid_token")
        return principal

    async def visible(self, request: web.Request, names: Sequence[str]) -> list[str]:
        return await self.grants.visible(await self.principal(request), names)
