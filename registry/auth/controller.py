"""Docker token authentication for the registry API: the `AccessController` of a hub with auth.

Per request, credentials become an `Identity` once (kept on the request):

- `Authorization: Bearer <jwt>`: the token is verified (cached by its text), and the actions
  wanted must be in its `access` claim. A user's token must still name its very account (and
  the access token it was minted with), checked through `registry.auth.revocations` (the
  database at most once a second per token binding).
- `Authorization: Basic ...`: a password or access token checked by the `Authenticator`, then
  the grants computed from the database (for simple clients; slower). A robot account's login
  name (`robot$<org>+<name>`) with its secret is a `robot` credential: its scope's actions,
  never an account.
- nothing: 401 with the `WWW-Authenticate: Bearer realm=...,service=...,scope=...` challenge
  that sends Docker clients to the token endpoint (anonymous tokens for public pulls).

The `Identity` records which kind of credential it came from (`registry.auth.rules.Credential`):
a bearer token acts only within its `access` claims (plus what anyone may do), never as its
account; account work needs a password or a personal access token (`account`).

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
from dataclasses import dataclass

from aiohttp import web

from registry.auth.access import Access
from registry.auth.authenticator import Authenticator
from registry.auth.grants import Grants
from registry.auth.policy import Principal
from registry.auth.revocations import RevocationCache
from registry.auth.robots import Robot
from registry.auth.rules import Credential
from registry.auth.scopes import format_challenge_scope
from registry.auth.tokens import InvalidTokenError, TokenClaims, TokenVerifier
from registry.db.hub_queries import Visibility
from registry.errors import (
    DeniedError,
    InsufficientScopeError,
    NotFoundError,
    RegistryError,
    UnauthorizedError,
)
from registry.hub.names import repository_of_scope, robot_owner

logger = logging.getLogger(__name__)

__all__ = ["IDENTITY", "Identity", "TokenAccessController", "parse_basic"]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is calling, and with which kind of credential."""

    kind: Credential
    subject: str  # user or robot login name; "" for anonymous
    # The account: for basic auth, and for a user's bearer token the account it is bound to
    # (which the token does not act as: see `TokenAccessController.held`).
    principal: Principal | None = None
    claims: TokenClaims | None = None  # set for bearer tokens
    robot: Robot | None = None  # a robot's basic credentials, or the robot behind its token

    @property
    def has_credentials(self) -> bool:
        return self.kind is not Credential.ANONYMOUS

    @property
    def account(self) -> Principal | None:
        """The account acting, when the credential may act as one (password, access token)."""
        if self.kind in (Credential.PASSWORD, Credential.ACCESS_TOKEN):
            return self.principal
        return None

    def may_list(self) -> Principal | None:
        """Whose private repositories listings may show: the account of a password or
        access token; for a bearer token, its account when it holds `registry:catalog`
        (`*` or `search`, as Docker asks for searches)."""
        if self.claims is None:
            return self.account
        for access in self.claims.access:
            if access.type == "registry" and access.name == "catalog" and access.actions:
                return self.principal
        return None


NOBODY = Identity(Credential.ANONYMOUS, "")
BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="berth-hub"'}
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
    """Whether a token's access entry is about the wanted resource.

    `wanted.name` is a repository (routes resolve paths and GUNs before asking); a granted name
    is spelled as the client asked for it, a path or a GUN, and is resolved the same way the
    token endpoint resolved it when it computed the grant.
    """
    if granted.type != wanted.type:
        return False
    if wanted.type != "repository":
        return granted.name == wanted.name
    return repository_of_scope(granted.name) == wanted.name


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
            holder = None
            if claims.subject:
                holder = await self.revocations.holder(claims)
                if holder is None:
                    raise self.unauthorized(
                        request,
                        wanted,
                        "the token's account, access token or robot is gone",
                        "invalid_token",
                    )
            if isinstance(holder, Robot):
                identity = Identity(Credential.BEARER, claims.subject, None, claims, holder)
            else:
                identity = Identity(Credential.BEARER, claims.subject, holder, claims)
        elif scheme == "basic":
            try:
                username, secret = parse_basic(value)
            except ValueError as exc:
                raise self.unauthorized(request, wanted, str(exc)) from exc
            identity = await self._basic(request, wanted, username, secret)
        else:
            identity = NOBODY
        request[IDENTITY] = identity
        return identity

    async def _basic(
        self, request: web.Request, wanted: Access | None, username: str, secret: str
    ) -> Identity:
        """The identity behind basic credentials: an account's, or a robot's.

        Raises:
            UnauthorizedError: wrong credentials (with the Bearer challenge).
            TooManyRequestsError: a throttled account or address.
        """
        address = request.remote or ""
        try:
            if robot_owner(username) is not None:
                robot = await self.authenticator.robot_login(username, secret, address)
                return Identity(Credential.ROBOT, robot.login, robot=robot)
            principal = await self.authenticator.login(username, secret, address)
        except UnauthorizedError as exc:
            raise self.unauthorized(request, wanted, exc.message or "unauthorized") from exc
        kind = Credential.PASSWORD if principal.token_id is None else Credential.ACCESS_TOKEN
        return Identity(kind, principal.name, principal)

    async def held(self, identity: Identity, wanted: Access) -> frozenset[str]:
        """The subset of the wanted actions the identity holds (a bearer token: its claims)."""
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
        if identity.account is not None:
            return await self.grants.actions(identity.account, wanted)
        if identity.kind is Credential.ROBOT and identity.robot is not None:
            return await self.grants.actions(identity.robot, wanted)
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
            if identity.claims is None:  # basic auth: nothing more to ask for
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

    async def account(self, request: web.Request) -> Principal:
        """The account acting with a password or personal access token.

        Raises:
            UnauthorizedError: anonymous, or a bearer token (never an account credential);
                carries a Basic challenge.
        """
        account = (await self.identify(request)).account
        if account is None:
            exc = UnauthorizedError("log in with a password or a personal access token")
            exc.headers = dict(BASIC_CHALLENGE)  # type: ignore[attr-defined]
            raise exc
        return account

    async def repository_actions(
        self, request: web.Request, name: str, actions: frozenset[str]
    ) -> Principal | None:
        """Return when the caller holds `actions` on a repository, for the Hub API.

        A bearer token holds its claims plus what anyone holds (public pulls); a password or
        access token, the account's grants (narrowed by the token's scopes).

        Returns:
            The account acting, if any (None for anonymous callers and bearer tokens).

        Raises:
            NotFoundError: the caller may not even pull it (so private names do not leak).
            UnauthorizedError, DeniedError: it may pull but not do the rest.
        """
        identity = await self.identify(request)
        wanted = Access("repository", name, actions | {"pull"})
        held = await self.held(identity, wanted)
        if identity.account is None:  # anonymous, or a bearer token: plus what anyone holds
            held |= await self.grants.actions(None, wanted)
        if "pull" not in held:
            raise NotFoundError(f"no repository {name!r}", name=name)
        if not actions <= held:
            if not identity.has_credentials:
                exc = UnauthorizedError("log in to change this repository")
                exc.headers = dict(BASIC_CHALLENGE)  # type: ignore[attr-defined]
                raise exc
            raise DeniedError("requested access to the resource is denied", name=name)
        return identity.account

    async def listing_principal(self, request: web.Request) -> Principal | None:
        """Whose private repositories the caller may see in listings (None: public only)."""
        return (await self.identify(request)).may_list()

    async def visibility(self, request: web.Request) -> Visibility:
        return await self.grants.visibility(await self.listing_principal(request))
