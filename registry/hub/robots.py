"""Robot accounts of organisations: created with a secret shown once, listed, revoked.

One service for the admin command line and the JSON API alike. It checks names, patterns,
actions and expiry and records every change in the audit log; who may call it is the caller's
business (the API admits the organisation's managers, the command line is the operator).
Revoking deletes the robot: its secret and every bearer token issued to it are refused from
then on (`registry.auth.revocations`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth import credentials
from registry.auth.robots import MAX_PATTERNS, normalise_actions, pattern_problem
from registry.db import account_queries, robot_queries
from registry.db.robot_queries import RobotRecord
from registry.errors import AlreadyExistsError, InvalidRequestError, NotFoundError
from registry.hub.audit import AuditLog
from registry.hub.names import robot_name, robot_name_problem

logger = logging.getLogger(__name__)

__all__ = ["MAX_LIFETIME", "RobotService"]

MAX_LIFETIME = timedelta(days=5 * 366)  # the furthest expiry a robot may be given
_MAX_DESCRIPTION = 255  # characters


def _patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(patterns))
    if not wanted or len(wanted) > MAX_PATTERNS:
        raise InvalidRequestError(f"give 1 to {MAX_PATTERNS} repository patterns")
    for pattern in wanted:
        problem = pattern_problem(pattern)
        if problem is not None:
            raise InvalidRequestError(problem, pattern=pattern)
    return wanted


def _expiry(expires_at: datetime, now: datetime) -> datetime:
    if expires_at.tzinfo is None:
        raise InvalidRequestError("the expiry needs a time zone (e.g. a trailing Z)")
    if expires_at <= now:
        raise InvalidRequestError("the expiry must be in the future")
    if expires_at - now > MAX_LIFETIME:
        raise InvalidRequestError(f"robots expire within {MAX_LIFETIME.days} days")
    return expires_at.astimezone(UTC)


class RobotService:
    """Robot accounts over the hub database.

    Args:
        engine: the hub database.
        audit: where changes are recorded.
    """

    def __init__(self, engine: AsyncEngine, audit: AuditLog) -> None:
        self.engine = engine
        self.audit = audit

    async def _org_id(self, org: str) -> int:
        async with self.engine.connect() as conn:
            namespace = await account_queries.namespace_by_name(conn, org)
        if namespace is None or namespace.kind != "org":
            raise NotFoundError(f"no organization {org!r}", org=org)
        return namespace.id

    async def create(
        self,
        org: str,
        name: str,
        patterns: Iterable[str],
        actions: Iterable[str],
        expires_at: datetime,
        *,
        description: str = "",
        actor: str,
        address: str = "",
    ) -> tuple[RobotRecord, str]:
        """A new robot of `org` and its secret (shown once: only its digest is stored).

        Args:
            org: the organisation owning it.
            name: its short name (it logs in as `robot$<org>+<name>`).
            patterns: repository patterns relative to `org` (`registry.auth.robots`).
            actions: among `pull`, `push`, `delete`.
            expires_at: when it stops working (timezone-aware, in the future).
            description: what it is for.
            actor: who creates it (audit log).
            address: the client address (audit log).

        Raises:
            InvalidRequestError: a bad name, pattern, action, expiry or description.
            NotFoundError: no such organisation.
            AlreadyExistsError: the organisation has a robot of that name.
        """
        problem = robot_name_problem(org, name)
        if problem is not None:
            raise InvalidRequestError(problem, name=name)
        wanted = _patterns(patterns)
        try:
            held = normalise_actions(actions)
        except ValueError as exc:
            raise InvalidRequestError(str(exc)) from exc
        expiry = _expiry(expires_at, datetime.now(UTC))
        if len(description) > _MAX_DESCRIPTION:
            raise InvalidRequestError(f"descriptions have at most {_MAX_DESCRIPTION} characters")
        namespace_id = await self._org_id(org)
        secret = credentials.new_robot_secret()
        async with self.engine.begin() as conn:
            if await robot_queries.robot_by_name(conn, namespace_id, name) is not None:
                raise AlreadyExistsError(f"{org!r} has a robot named {name!r}", name=name)
            robot_id = await robot_queries.insert_robot(
                conn,
                namespace_id=namespace_id,
                name=name,
                secret_hash=credentials.token_digest(secret),
                patterns=wanted,
                actions=held,
                description=description,
                created_by=actor,
                expires_at=expiry,
            )
            record = await robot_queries.robot_by_id(conn, robot_id)
        assert record is not None
        await self.audit.record(
            actor,
            "robot-add",
            robot_name(org, name),
            address,
            repositories=list(wanted),
            actions=sorted(held),
            expires=expiry.isoformat(),
        )
        return record, secret

    async def robots(self, org: str) -> list[RobotRecord]:
        """Every robot of `org`, expired ones included.

        Raises:
            NotFoundError: no such organisation.
        """
        namespace_id = await self._org_id(org)
        async with self.engine.connect() as conn:
            return await robot_queries.robots_of(conn, namespace_id)

    async def revoke(self, org: str, name: str, *, actor: str, address: str = "") -> RobotRecord:
        """Delete the robot `name` of `org`: its secret and tokens are refused from now on.

        Returns:
            The robot as it was (for this process's revocation cache).

        Raises:
            NotFoundError: no such organisation or robot.
        """
        namespace_id = await self._org_id(org)
        async with self.engine.begin() as conn:
            record = await robot_queries.robot_by_name(conn, namespace_id, name)
            if record is None or not await robot_queries.delete_robot(conn, record.id):
                raise NotFoundError(f"{org!r} has no robot named {name!r}", name=name)
        await self.audit.record(actor, "robot-revoke", robot_name(org, name), address)
        return record
