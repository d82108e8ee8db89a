"""Passwords, personal access tokens and robot secrets: generating, hashing and checking them.

Passwords are hashed with argon2id (slow on purpose). Access tokens and robot secrets are
256-bit random strings, so a SHA-256 digest is enough to store them and lets one be found by its
digest in one indexed query. None is ever stored or logged in clear.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "ACCESS_TOKEN_PREFIX",
    "hash_password",
    "is_access_token",
    "new_access_token",
    "new_password",
    "new_robot_secret",
    "token_digest",
    "verify_password",
]

ACCESS_TOKEN_PREFIX = "bth_"
ROBOT_SECRET_PREFIX = "bthr_"
# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): slow for guessing, yet a login
# costs tens of milliseconds, not the half second the library default takes on small hosts.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of a password."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash (slow: run it off the event loop)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_password() -> str:
    """A random password for generated accounts (about 120 bits)."""
    return secrets.token_urlsafe(15)


def new_access_token() -> str:
    """A new personal access token, `bth_` followed by 256 random bits."""
    return ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_robot_secret() -> str:
    """A new robot account secret, `bthr_` followed by 256 random bits."""
    return ROBOT_SECRET_PREFIX + secrets.token_urlsafe(32)


def is_access_token(secret: str) -> bool:
    """Whether a secret sent as a password is a personal access token."""
    return secret.startswith(ACCESS_TOKEN_PREFIX)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest under which an access token or a robot secret is stored."""
    return hashlib.sha256(token.encode()).hexdigest()
