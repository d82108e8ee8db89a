"""`/api/v1/orgs/<org>/robots...`: an organisation's robot accounts, for its managers.

The route rule admits the organisation's owners and hub admins (password or `admin` token).
A robot's secret is in the creation answer only; listings show each robot's scope, expiry
and last use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from registry import keys
from registry.api.hub.common import acting_account, address, field, json_body, timestamp
from registry.auth.authenticator import account_stamp
from registry.db.robot_queries import RobotRecord
from registry.errors import InvalidRequestError
from registry.hub.names import robot_name
from registry.hub.robots import MAX_LIFETIME

__all__ = ["create_robot", "list_robots", "revoke_robot", "robot_json"]


def robot_json(robot: RobotRecord, now: datetime) -> dict[str, Any]:
    return {
        "name": robot.name,
        "login": robot_name(robot.org, robot.name),
        "repositories": list(robot.patterns),
        "actions": sorted(robot.actions),
        "description": robot.description,
        "created_by": robot.created_by,
        "created": timestamp(robot.created_at),
        "expires": timestamp(robot.expires_at),
        "expired": robot.expires_at <= now,
        "last_used": timestamp(robot.last_used_at),
    }


def _strings(body: dict[str, Any], name: str) -> list[str]:
    values = field(body, name, list)
    if not all(isinstance(value, str) for value in values):
        raise InvalidRequestError(f"{name!r} must be a list of strings", field=name)
    return values


def _expiry(body: dict[str, Any], now: datetime) -> datetime:
    """`expires_at` (RFC 3339) or `expires_in` (seconds from now): exactly one.

    Raises:
        InvalidRequestError: neither, both, or a malformed value.
    """
    at = field(body, "expires_at", str, required=False)
    seconds = field(body, "expires_in", int, required=False)
    if (at is None) == (seconds is None):
        raise InvalidRequestError("give either expires_at (RFC 3339) or expires_in (seconds)")
    if seconds is not None:
        if not 0 < seconds <= MAX_LIFETIME.total_seconds():
            raise InvalidRequestError(
                f"expires_in is 1 to {int(MAX_LIFETIME.total_seconds())} seconds"
            )
        return now + timedelta(seconds=seconds)
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequestError("expires_at is not an RFC 3339 time", field="expires_at") from exc


async def create_robot(request: web.Request) -> web.Response:
    principal = acting_account(request)
    body = await json_body(request)
    now = datetime.now(UTC)
    record, secret = await request.app[keys.ROBOTS].create(
        request.match_info["org"],
        field(body, "name", str),
        _strings(body, "repositories"),
        _strings(body, "actions"),
        _expiry(body, now),
        description=field(body, "description", str, required=False) or "",
        actor=principal.name,
        address=address(request),
    )
    # The secret is in this answer only; the hub keeps its digest.
    return web.json_response({**robot_json(record, now), "secret": secret}, status=201)


async def list_robots(request: web.Request) -> web.Response:
    acting_account(request)
    robots = await request.app[keys.ROBOTS].robots(request.match_info["org"])
    now = datetime.now(UTC)
    return web.json_response({"robots": [robot_json(robot, now) for robot in robots]})


async def revoke_robot(request: web.Request) -> web.Response:
    principal = acting_account(request)
    robot = await request.app[keys.ROBOTS].revoke(
        request.match_info["org"],
        request.match_info["robot"],
        actor=principal.name,
        address=address(request),
    )
    # Its bearer tokens die here at once (other hub processes within a second).
    stamp = account_stamp(robot.created_at)
    request.app[keys.AUTH].revocations.robot_revoked(robot.id, stamp)
    return web.Response(status=204)
