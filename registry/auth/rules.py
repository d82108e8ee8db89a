"""Authorisation rules: what each route needs, and which kinds of credential may call it.

Every route of the hub declares one `Rule` (in its route table: `registry.api.routes`,
`registry.api.hub_routes`, `registry.trustmount`); one middleware
(`registry.api.authorization`) checks it before any handler runs, and the app refuses to start
with a route that has none. Pure: no aiohttp, no database.

Credential kinds:

- `anonymous`: no `Authorization` header.
- `password`: basic auth with the account's password (the whole account).
- `access-token`: basic auth with a personal access token, narrowed to its scopes.
- `bearer`: a registry access token (JWT) from `/token`, limited to its `access` claims; an
  anonymous one has no account at all. Never an account credential.
- `refresh`: a refresh token (Docker's identity token); only the token endpoint takes it.
- `robot`: basic auth with a robot account's secret (`robot$<org>+<name>`): the repository
  actions its scope grants, wherever a bearer token is taken, and never an account. Its bearer
  tokens from `/token` are `bearer` credentials like any other.

Resources (what a rule protects):

- `open`: nothing; credentials are not even read (health, metrics, pings).
- `token`: the token endpoint authenticates by itself (password, access token, refresh token)
  and grants at most what that credential holds.
- `registry`: the API version check `GET /v2/`: any valid credential (anonymous gets the
  Bearer challenge that starts Docker's token flow).
- `catalog`: `registry:catalog:*`; the listing shows only what the credential may see.
- `repository`: `action` on the repository named in the path (`name` or the trust `gun`).
- `listing`: anyone; answers show public data plus what the credential may see (a bearer
  token sees its account's repositories only with a `registry:catalog:search` or `*` claim).
- `account`: the caller's own account; `organization`: the organisation in the path (its
  owners, and hub admins); `namespace`: the namespace in the path (its user, its
  organisation's owners, hub admins); `hub`: every account (hub admins only).
- `web`: a page of the web interface. Pages read only their session cookie (never the
  `Authorization` header) and `registry.web.security` checks the route's audience (anyone,
  signed in, organisation managers, admins, or an action on the path's repository) with the
  same grants, before the view runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Credential",
    "Resource",
    "Rule",
]


class Credential(StrEnum):
    """A kind of credential a request may carry."""

    ANONYMOUS = "anonymous"
    PASSWORD = "password"
    ACCESS_TOKEN = "access-token"
    BEARER = "bearer"
    REFRESH = "refresh"
    ROBOT = "robot"


class Resource(StrEnum):
    """What a rule protects."""

    OPEN = "open"
    TOKEN = "token"
    REGISTRY = "registry"
    CATALOG = "catalog"
    REPOSITORY = "repository"
    LISTING = "listing"
    ACCOUNT = "account"
    ORGANIZATION = "organization"
    NAMESPACE = "namespace"
    HUB = "hub"
    WEB = "web"


_ALL = frozenset(Credential) - {Credential.REFRESH}
_REGISTRY = frozenset(
    {Credential.PASSWORD, Credential.ACCESS_TOKEN, Credential.BEARER, Credential.ROBOT}
)
_ACCOUNT = frozenset({Credential.PASSWORD, Credential.ACCESS_TOKEN})


@dataclass(frozen=True, slots=True)
class Rule:
    """One route's authorisation rule.

    Attributes:
        resource: what the route acts on.
        action: the action needed there: repository actions (`pull`, `push`, `delete`, `*`)
            or account ones (`read`, `write`, `manage`).
        credentials: the credential kinds that may call the route at all.
        token_scope: the personal-access-token scope needed (`read`, `write`, `delete`,
            `admin`; `admin` allows everything, every scope allows `read`); None: the
            token's scopes narrow repository actions instead.
        hidden: a caller who may not pull the repository gets 404, as if it did not exist.
    """

    resource: Resource
    action: str
    credentials: frozenset[Credential]
    token_scope: str | None = None
    hidden: bool = False

    @classmethod
    def open(cls) -> Rule:
        """Anyone; credentials are not read."""
        return cls(Resource.OPEN, "-", _ALL)

    @classmethod
    def token(cls) -> Rule:
        """The token endpoint: anonymous, password, access token, robot or refresh token."""
        kinds = _ACCOUNT | {Credential.ANONYMOUS, Credential.REFRESH, Credential.ROBOT}
        return cls(Resource.TOKEN, "issue", kinds)

    @classmethod
    def registry(cls) -> Rule:
        """Any valid credential; anonymous callers get the token challenge."""
        return cls(Resource.REGISTRY, "ping", _REGISTRY)

    @classmethod
    def catalog(cls) -> Rule:
        """`registry:catalog:*`, held by every credential; the listing is filtered."""
        return cls(Resource.CATALOG, "*", _REGISTRY)

    @classmethod
    def repository(cls, action: str, *, anonymous: bool = False, hidden: bool = False) -> Rule:
        """`action` on the path's repository.

        Args:
            action: `pull`, `push`, `delete` or `*`.
            anonymous: callers without credentials are judged too (public pulls on the Hub
                API); otherwise they get the token challenge, as Docker expects.
            hidden: refusing a caller who may not pull answers 404.
        """
        credentials = _REGISTRY | {Credential.ANONYMOUS} if anonymous else _REGISTRY
        return cls(Resource.REPOSITORY, action, credentials, hidden=hidden)

    @classmethod
    def account_on_repository(cls, token_scope: str) -> Rule:
        """An account's own action about a repository it may pull (a star): a password or an
        access token with `token_scope`; hidden repositories answer 404."""
        return cls(Resource.REPOSITORY, "pull", _ACCOUNT, token_scope, hidden=True)

    @classmethod
    def listing(cls) -> Rule:
        """Anyone; answers are filtered by what the credential may see."""
        return cls(Resource.LISTING, "read", _ALL)

    @classmethod
    def account(cls, token_scope: str, action: str = "manage") -> Rule:
        """The caller's own account, with a password or an access token holding the scope."""
        return cls(Resource.ACCOUNT, action, _ACCOUNT, token_scope)

    @classmethod
    def organization(cls) -> Rule:
        """Managing the path's organisation: its owners and hub admins (`admin` tokens)."""
        return cls(Resource.ORGANIZATION, "manage", _ACCOUNT, "admin")

    @classmethod
    def namespace(cls) -> Rule:
        """Settings of the path's namespace: its user, its organisation's owners, admins."""
        return cls(Resource.NAMESPACE, "manage", _ACCOUNT, "admin")

    @classmethod
    def hub_admin(cls) -> Rule:
        """Hub administration: an admin's password or `admin` access token."""
        return cls(Resource.HUB, "manage", _ACCOUNT, "admin")

    @classmethod
    def web(cls, audience: str) -> Rule:
        """A web page for `audience` (`registry.web.routes.Audience`), by its session."""
        return cls(Resource.WEB, audience, frozenset({Credential.ANONYMOUS, Credential.PASSWORD}))

    def describe(self) -> str:
        """One line for the rule table (README, reports)."""
        if self.resource is Resource.OPEN:
            return "open (anyone; credentials not read)"
        kinds = ", ".join(kind.value for kind in Credential if kind in self.credentials)
        scope = f"; token scope {self.token_scope}" if self.token_scope else ""
        hidden = "; 404 when hidden" if self.hidden else ""
        return f"{self.resource.value}:{self.action} ({kinds}{scope}{hidden})"
