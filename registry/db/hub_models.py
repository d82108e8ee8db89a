"""SQLAlchemy models of the Hub layer: accounts, organizations, tokens, repository data, audit.

Names are shared by users and organizations: each owns one row of `namespaces`, and `library`
(the official images) is a namespace of its own. Secrets are never stored in clear: passwords
are argon2 hashes, access tokens are SHA-256 digests of high-entropy random strings.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.db.models import Base

__all__ = [
    "AccessToken",
    "AuditEvent",
    "Grant",
    "LoginFailure",
    "Namespace",
    "RepositoryProfile",
    "RobotAccount",
    "SigningKey",
    "Star",
    "Team",
    "TeamMember",
    "User",
    "WebSession",
]


class Namespace(Base):
    """The first path component of repository names: a user's, an org's or `library`."""

    __tablename__ = "namespaces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "user" | "org" | "library"
    default_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Content trust required for its repositories that have no setting of their own.
    trust_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The signature policy version its repositories without their own follow (or None: DCT).
    signature_policy: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, PHC string
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Team(Base):
    """A group of users inside an organization; grants name teams (or single users)."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace_id: Mapped[int] = mapped_column(ForeignKey("namespaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("namespace_id", "name"),)


class TeamMember(Base):
    __tablename__ = "team_members"

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index(None, "user_id"),)


class Grant(Base):
    """A role (read, write, owner) for a team on a whole namespace or on one repository."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    namespace_id: Mapped[int] = mapped_column(ForeignKey("namespaces.id", ondelete="CASCADE"))
    repository: Mapped[str] = mapped_column(String(255), default="")  # "": the whole namespace
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("team_id", "namespace_id", "repository"),
        Index(None, "namespace_id"),
        CheckConstraint("role IN ('read', 'write', 'owner')", name="role"),
    )


class AccessToken(Base):
    """A personal access token: only its SHA-256 digest is kept."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64))  # comma-separated: read,write,delete,admin
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # None: the token lasts until it is revoked.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index(None, "user_id"),)


class RobotAccount(Base):
    """An organisation's robot account: only the SHA-256 digest of its secret is kept.

    `repositories` is a JSON list of patterns relative to the organisation
    (`registry.auth.robots`); deleting the organisation deletes its robots.
    """

    __tablename__ = "robot_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace_id: Mapped[int] = mapped_column(ForeignKey("namespaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    repositories: Mapped[str] = mapped_column(Text)
    actions: Mapped[str] = mapped_column(String(64))  # comma-separated: pull,push,delete
    description: Mapped[str] = mapped_column(String(255), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("namespace_id", "name"),)


class RepositoryProfile(Base):
    """Hub data of a repository: short description and README, visibility, pull count, last
    push."""

    __tablename__ = "repository_profiles"

    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    # The README (Markdown), Docker Hub's "full description".
    full_description: Mapped[str] = mapped_column(Text, default="", server_default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    pull_count: Mapped[int] = mapped_column(BigInteger, default=0)
    last_pushed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Star(Base):
    __tablename__ = "stars"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )

    __table_args__ = (Index(None, "repository_id"),)


class SigningKey(Base):
    """A token-signing key pair, shared by every hub process; the newest signs, all verify.

    `private_pem` holds the private key sealed with the hub's key-encryption secret
    (`registry.auth.keyseal`); rows from earlier versions hold plain PEM until a hub starts.
    """

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(100), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One failed login, counted per account and per client address for throttling."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index(None, "account", "failed_at"), Index(None, "address", "failed_at"))


class AuditEvent(Base):
    """Who did what: logins, pushes, deletes and permission changes."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))  # user name, "-" for anonymous
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON object

    __table_args__ = (Index(None, "created_at"),)


class WebSession(Base):
    """A signed-in browser: the SHA-256 digest of its cookie, never the cookie itself.

    `credential` is the password fingerprint at sign-in: a changed password ends the session,
    and deleting the user deletes its sessions (cascade).
    """

    __tablename__ = "web_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
