"""Bearer tokens: ES256-signed JWTs in Docker's token-auth format, issued and verified.

An access token names what it grants in its `access` claim (`[{"type", "name", "actions"}]`),
its audience is the registry's service name and it expires quickly. A token for a user is bound
to that account, not only to its name: `uid` is the user's id and `ust` the account's creation
stamp (microseconds), so a token outlives neither its account nor a new account of the same
name (SQLite may hand a deleted row's id to the next user). `pat` names the personal access
token it was minted with, if any. A robot account's token carries `rid` and `rst` (the robot's
id and creation stamp) instead, never `uid`: it names no user account at all. A refresh token
(Docker's "identity token") has `use: refresh` and no access; the token endpoint trades it for
access tokens after checking the account (and the access token it came from) still stands.

Verifying ECDSA costs more than serving a manifest, so verified tokens are cached by their full
text until they expire: a hit is one dictionary lookup. "Now" is always a parameter. A token
naming a key the verifier lacks makes `TokenVerifier.check` ask for the current keys once (a
key rotated in by another hub process).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from registry.auth.access import Access

logger = logging.getLogger(__name__)

__all__ = [
    "ISSUER",
    "InvalidTokenError",
    "PublicKeys",
    "SigningKey",
    "TokenClaims",
    "TokenIssuer",
    "TokenVerifier",
    "UnknownKeyError",
    "UserBinding",
    "key_id",
    "new_private_key_pem",
]

ISSUER = "berth-hub"
_ALGORITHM = "ES256"
_CACHE_SIZE = 8192  # verified tokens kept in memory
_LEEWAY = 5  # seconds of clock skew accepted between hub processes


class InvalidTokenError(Exception):
    """A bearer token is malformed, signed by an unknown key, tampered with or expired."""


class UnknownKeyError(InvalidTokenError):
    """A bearer token names a signing key this process does not know (yet)."""


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The libtrust-style key id: base32 of the SHA-256 of the DER key, in 4-char groups."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def new_private_key_pem() -> str:
    """A new P-256 private key, PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class SigningKey:
    """A token-signing key pair and its id."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        """The key of an unencrypted PEM private key.

        Raises:
            ValueError: not a PEM private key, or not an EC key.
        """
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("token signing key must be an EC key")
        return cls.from_private_key(key)

    @classmethod
    def from_private_key(cls, key: ec.EllipticCurvePrivateKey) -> SigningKey:
        """The key pair with its id."""
        return cls(key_id(key.public_key()), key)

    @classmethod
    def generate(cls) -> SigningKey:
        """A new P-256 key pair."""
        return cls.from_private_key(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()


@dataclass(frozen=True, slots=True)
class UserBinding:
    """The account a token stands for: its id and creation stamp (microseconds since 1970)."""

    user_id: int
    stamp: int


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """The verified content of a bearer token."""

    subject: str  # user name; "" for anonymous
    access: tuple[Access, ...]
    expires_at: int  # Unix seconds
    use: str  # "access" | "refresh"
    token_id: int | None  # personal access token behind it, if any
    extra: Mapping[str, Any]
    user: UserBinding | None = None  # a user's token: its account
    robot: UserBinding | None = None  # a robot's token: the robot (its id and creation stamp)

    def grants(self, kind: str, name: str) -> frozenset[str]:
        """The actions granted on one resource (names compared as given)."""
        actions: frozenset[str] = frozenset()
        for access in self.access:
            if access.type == kind and access.name == name:
                actions |= access.actions
        return actions


class TokenIssuer:
    """Signs access and refresh tokens for one service (the JWT audience).

    Args:
        key: the signing key.
        service: the audience (the registry's service name).
    """

    def __init__(self, key: SigningKey, service: str) -> None:
        self.key = key
        self.service = service

    def _claims(
        self,
        subject: str,
        use: str,
        *,
        now: int,
        ttl: int,
        token_id: int | None,
        user: UserBinding | None,
        robot: UserBinding | None = None,
    ) -> dict[str, Any]:
        """The claims both kinds carry; `pat` names the access token they stand for, if any.

        Raises:
            ValueError: a named token without exactly one binding (account or robot), or a
                binding without a name.
        """
        if bool(subject) != ((user is not None) + (robot is not None) == 1):
            raise ValueError("a named token needs one binding (account or robot), and only it")
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": subject,
            "aud": self.service,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(12),
            "use": use,
        }
        if token_id is not None:
            claims["pat"] = token_id
        if user is not None:
            claims["uid"] = user.user_id
            claims["ust"] = user.stamp
        if robot is not None:
            claims["rid"] = robot.user_id
            claims["rst"] = robot.stamp
        return claims

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key.private_key, _ALGORITHM, headers={"kid": self.key.kid})

    def access_token(
        self,
        subject: str,
        access: Iterable[Access],
        *,
        now: int,
        ttl: int,
        token_id: int | None = None,
        user: UserBinding | None = None,
        robot: UserBinding | None = None,
    ) -> str:
        """An access token granting exactly `access` until `now + ttl`.

        Args:
            subject: the user or robot login name; "" for an anonymous token.
            access: what it grants.
            now: Unix seconds.
            ttl: seconds it lives.
            token_id: the personal access token it is minted with, if any.
            user: the account of a user's `subject`.
            robot: the robot of a robot's `subject` (one of `user` and `robot` for a named
                token, neither for anonymous).
        """
        claims = self._claims(
            subject, "access", now=now, ttl=ttl, token_id=token_id, user=user, robot=robot
        )
        claims["nbf"] = now - _LEEWAY
        claims["access"] = [
            {"type": a.type, "name": a.name, "actions": sorted(a.actions)} for a in access
        ]
        return self._sign(claims)

    def refresh_token(
        self,
        subject: str,
        *,
        now: int,
        ttl: int,
        token_id: int | None,
        fingerprint: str,
        user: UserBinding,
    ) -> str:
        """A refresh token for `subject`, bound to its account and credential (token, password)."""
        claims = self._claims(subject, "refresh", now=now, ttl=ttl, token_id=token_id, user=user)
        claims["cred"] = fingerprint
        return self._sign(claims)


PublicKeys = Mapping[str, ec.EllipticCurvePublicKey]


class TokenVerifier:
    """Checks bearer tokens against the known public keys, with a cache of verified tokens.

    Args:
        keys: public keys by key id.
        service: the expected audience.
        reload: called by `check` when a token names an unknown key; answers the current
            keys (see `registry.auth.keystore`).
    """

    def __init__(
        self,
        keys: PublicKeys,
        service: str,
        reload: Callable[[], Awaitable[PublicKeys]] | None = None,
    ) -> None:
        self.keys = dict(keys)
        self.service = service
        self._reload = reload
        self._cache: OrderedDict[str, TokenClaims] = OrderedDict()

    def replace_keys(self, keys: PublicKeys) -> None:
        """Verify with `keys` from now on; tokens of a dropped key leave the cache."""
        dropped = self.keys.keys() - keys.keys()
        self.keys = dict(keys)
        if dropped:
            self._cache.clear()

    async def check(self, token: str, *, now: int, use: str = "access") -> TokenClaims:
        """`verify`, reloading the keys once when the token names an unknown one.

        Raises:
            InvalidTokenError: as `verify`.
        """
        try:
            return self.verify(token, now=now, use=use)
        except UnknownKeyError:
            if self._reload is None:
                raise
            self.replace_keys(await self._reload())
            return self.verify(token, now=now, use=use)

    def verify(self, token: str, *, now: int, use: str = "access") -> TokenClaims:
        """The claims of a valid token.

        Raises:
            InvalidTokenError: malformed, unknown key, bad signature, wrong audience or issuer,
                not yet valid, expired, or not a token of the wanted use.
        """
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at > now - _LEEWAY and cached.use == use:
                return cached
            self._cache.pop(token, None)
            raise InvalidTokenError("token expired" if cached.use == use else "wrong token use")
        claims = self._decode(token, now)
        if claims.use != use:
            raise InvalidTokenError("wrong token use")
        self._cache[token] = claims
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return claims

    def _decode(self, token: str, now: int) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
            key = self.keys.get(str(header.get("kid")))
            if header.get("alg") != _ALGORITHM:
                raise InvalidTokenError("token not signed with ES256")
            if key is None:
                raise UnknownKeyError("token signed by an unknown key")
            payload = jwt.decode(
                token,
                key,
                algorithms=[_ALGORITHM],
                audience=self.service,
                issuer=ISSUER,
                leeway=_LEEWAY,
                options={"require": ["exp", "sub", "aud", "iss"], "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(_reason(exc)) from exc
        # PyJWT checks expiry against the wall clock; check against our "now" too.
        if int(payload["exp"]) <= now - _LEEWAY:
            raise InvalidTokenError("token expired")
        try:
            access = tuple(
                Access(str(item["type"]), str(item["name"]), frozenset(map(str, item["actions"])))
                for item in payload.get("access", [])
            )
        except (KeyError, TypeError) as exc:
            raise InvalidTokenError("malformed access claim") from exc
        subject = str(payload["sub"])
        user_id, stamp = _int_claim(payload, "uid"), _int_claim(payload, "ust")
        robot_id, robot_stamp = _int_claim(payload, "rid"), _int_claim(payload, "rst")
        user = UserBinding(user_id, stamp) if user_id is not None and stamp is not None else None
        robot = None
        if robot_id is not None and robot_stamp is not None:
            robot = UserBinding(robot_id, robot_stamp)
        if subject and (user is None) == (robot is None):
            raise InvalidTokenError("token not bound to an account")
        return TokenClaims(
            subject=subject,
            access=access,
            expires_at=int(payload["exp"]),
            use=str(payload.get("use", "access")),
            token_id=_int_claim(payload, "pat"),
            extra=payload,
            user=user if subject else None,
            robot=robot if subject else None,
        )


def _int_claim(payload: Mapping[str, Any], name: str) -> int | None:
    """An integer claim, or None when absent.

    Raises:
        InvalidTokenError: present but not an integer (a signed token is still checked: a
            signing key may have been shared with a less careful issuer).
    """
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidTokenError(f"malformed {name} claim")
    return value


# The JWT library's messages quote its internals (and echo decoding errors); clients get ours.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not valid yet"),
    (jwt.InvalidAudienceError, "token issued for another service"),
    (jwt.InvalidIssuerError, "token issued by another issuer"),
    (jwt.MissingRequiredClaimError, "token lacks a required claim"),
    (jwt.InvalidSignatureError, "token signature does not verify"),
    (jwt.DecodeError, "malformed token"),
)


def _reason(exc: jwt.PyJWTError) -> str:
    """Berth's words for why the JWT library refused a token."""
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "invalid token"
