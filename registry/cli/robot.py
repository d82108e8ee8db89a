"""`berth-hub robot add|ls|rm`: an organisation's robot accounts (the secret is printed once).

Works on the hub's database like the other account commands: a robot removed here is refused
by running hubs at once with its secret, and with its bearer tokens within a second.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.auth.robots import ROBOT_ACTIONS
from registry.cli.common import print_table
from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.cli.token import duration
from registry.db.robot_queries import RobotRecord
from registry.hub.audit import AuditLog
from registry.hub.names import robot_name
from registry.hub.robots import RobotService


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="robot_command", required=True)
    add = verbs.add_parser("add", help="create a robot account and print its secret once")
    add.add_argument("org")
    add.add_argument("name", help="it logs in as robot$ORG+NAME")
    add.add_argument(
        "--repo",
        action="append",
        required=True,
        metavar="PATTERN",
        help="repositories of ORG it may use: NAME, with * inside a component or a whole "
        "component ** (repeat for several)",
    )
    add.add_argument(
        "--action",
        action="append",
        choices=ROBOT_ACTIONS,
        required=True,
        help="pull, push or delete (repeat; push and delete include pull)",
    )
    add.add_argument(
        "--expires",
        type=duration,
        default="30d",
        metavar="DURATION",
        help="how long it works (90s, 15m, 12h, 30d; default 30d)",
    )
    add.add_argument("--description", default="", help="what it is for")
    add_common(add)
    add.set_defaults(func=run_add)
    listing = verbs.add_parser("ls", help="list an organisation's robots with their last use")
    listing.add_argument("org")
    add_common(listing)
    listing.set_defaults(func=run_ls)
    remove = verbs.add_parser("rm", help="revoke a robot (refused from now on)")
    remove.add_argument("org")
    remove.add_argument("name")
    add_common(remove)
    remove.set_defaults(func=run_rm)


def _robots(engine: AsyncEngine) -> RobotService:
    return RobotService(engine, AuditLog(engine))


def run_add(args: argparse.Namespace) -> int:
    async def add(engine: AsyncEngine) -> tuple[RobotRecord, str]:
        return await _robots(engine).create(
            args.org,
            args.name,
            args.repo,
            args.action,
            datetime.now(UTC) + args.expires,
            description=args.description,
            actor=CLI_ACTOR,
        )

    status, created = run_with_engine(args, add)
    if created is not None:
        record, secret = created
        expires = record.expires_at.strftime("%Y-%m-%d %H:%M:%S")
        print(f"robot {robot_name(record.org, record.name)} (until {expires} UTC):")
        print(secret)
    return status


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "never"


def run_ls(args: argparse.Namespace) -> int:
    status, robots = run_with_engine(args, lambda engine: _robots(engine).robots(args.org))
    if robots is not None:
        now = datetime.now(UTC)
        print_table(
            ("LOGIN", "ACTIONS", "EXPIRES", "LAST USED", "REPOSITORIES"),
            [
                (
                    robot_name(robot.org, robot.name),
                    ",".join(sorted(robot.actions)),
                    _when(robot.expires_at) + (" (expired)" if robot.expires_at <= now else ""),
                    _when(robot.last_used_at),
                    " ".join(robot.patterns),
                )
                for robot in robots
            ],
        )
    return status


def run_rm(args: argparse.Namespace) -> int:
    async def remove(engine: AsyncEngine) -> RobotRecord:
        return await _robots(engine).revoke(args.org, args.name, actor=CLI_ACTOR)

    status, _ = run_with_engine(args, remove)
    if status == 0:
        print(f"revoked {robot_name(args.org, args.name)}")
    return status
