"""The reads behind every request with basic credentials, built once for `registry.db.hotreads`.

A basic-auth request is a login and a grants check on every request: looked up fresh each time
(never cached), so a revoked token, a changed password or a removed grant counts from the very
next request. Run through the hot-read path they cost microseconds on SQLite instead of worker
thread hops. Rows are plain tuples; the columns are listed in each statement's comment.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, case, func, or_, select

from registry.db.tables import (
    access_tokens,
    grants,
    login_failures,
    namespaces,
    profiles,
    repositories,
    robot_accounts,
    team_members,
    users,
)

__all__ = [
    "LOGIN_FAILURES",
    "NAMESPACE",
    "REPOSITORY_PUBLIC",
    "ROBOT_LOGIN",
    "TEAM_ROLES",
    "TOKEN_LOGIN",
    "USER_LOGIN",
]

# (id, name, password_hash, is_admin, created_at) of the user `name`.
USER_LOGIN = select(
    users.c.id, users.c.name, users.c.password_hash, users.c.is_admin, users.c.created_at
).where(users.c.name == bindparam("name"))

# (token id, scopes, revoked_at, expires_at, user id, user name, is_admin, user created_at) of
# the token hashed `digest`.
TOKEN_LOGIN = (
    select(
        access_tokens.c.id,
        access_tokens.c.scopes,
        access_tokens.c.revoked_at,
        access_tokens.c.expires_at,
        users.c.id,
        users.c.name,
        users.c.is_admin,
        users.c.created_at,
    )
    .select_from(access_tokens.join(users, users.c.id == access_tokens.c.user_id))
    .where(access_tokens.c.token_hash == bindparam("digest"))
)

# (id, kind, default_public) of the namespace `namespace`.
NAMESPACE = select(namespaces.c.id, namespaces.c.kind, namespaces.c.default_public).where(
    namespaces.c.name == bindparam("namespace")
)

# (is_public,) of the repository `repo`, when it has a profile.
REPOSITORY_PUBLIC = (
    select(profiles.c.is_public)
    .select_from(repositories.join(profiles, profiles.c.repository_id == repositories.c.id))
    .where(repositories.c.name == bindparam("repo"))
)

# (role,) of every team grant of user `user_id` on namespace `namespace_id`, whole or `repo`.
TEAM_ROLES = (
    select(grants.c.role)
    .join(team_members, team_members.c.team_id == grants.c.team_id)
    .where(
        team_members.c.user_id == bindparam("user_id"),
        grants.c.namespace_id == bindparam("namespace_id"),
        or_(grants.c.repository == bindparam("whole"), grants.c.repository == bindparam("repo")),
    )
)

# (id, org name, robot name, repositories, actions, expires_at, created_at) of the robot whose
# secret is hashed `digest`.
ROBOT_LOGIN = (
    select(
        robot_accounts.c.id,
        namespaces.c.name,
        robot_accounts.c.name,
        robot_accounts.c.repositories,
        robot_accounts.c.actions,
        robot_accounts.c.expires_at,
        robot_accounts.c.created_at,
    )
    .select_from(robot_accounts.join(namespaces, namespaces.c.id == robot_accounts.c.namespace_id))
    .where(robot_accounts.c.secret_hash == bindparam("digest"))
)


_OF_ACCOUNT = login_failures.c.account == bindparam("account")
_FROM_ADDRESS = login_failures.c.address == bindparam("address")
# (for the pair, for the account, from the address): failed logins since `since`.
LOGIN_FAILURES = select(
    func.coalesce(func.sum(case((and_(_OF_ACCOUNT, _FROM_ADDRESS), 1), else_=0)), 0),
    func.coalesce(func.sum(case((_OF_ACCOUNT, 1), else_=0)), 0),
    func.coalesce(func.sum(case((_FROM_ADDRESS, 1), else_=0)), 0),
).where(login_failures.c.failed_at >= bindparam("since"), or_(_OF_ACCOUNT, _FROM_ADDRESS))
