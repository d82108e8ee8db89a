"""`berth-hub repo immutable` and `berth-hub org immutable`: immutability rules.

With neither `--add` nor `--remove` the rules are listed (for a repository: its namespace's and
its own). A rule holds for everyone, hub admins included, until it is removed.
"""

from __future__ import annotations

import argparse

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.hub.audit import AuditLog
from registry.hub.immutability import ImmutabilityService, ImmutableRule

__all__ = ["add_immutable_arguments", "run_immutable"]


def add_immutable_arguments(parser: argparse.ArgumentParser) -> None:
    """`--add PATTERN` or `--remove ID`; neither lists the rules."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--add", metavar="PATTERN", help="tag glob, e.g. 'v*' or 'release-*'")
    choice.add_argument("--remove", metavar="ID", type=int, help="rule id to remove")


def _line(rule: ImmutableRule) -> str:
    return f"{rule.id}\t{rule.scope}\t{rule.pattern}\t{rule.created_by}"


def run_immutable(args: argparse.Namespace) -> int:
    """List, add or remove the immutability rules of `args.scope` (repository or namespace)."""

    async def action(engine: AsyncEngine) -> str:
        service = ImmutabilityService(engine, AuditLog(engine))
        if args.add is not None:
            rule = await service.add(args.scope, args.add, actor=CLI_ACTOR)
            return f"rule {rule.id}: tags matching {rule.pattern!r} in {rule.scope} are immutable"
        if args.remove is not None:
            await service.remove(args.scope, args.remove, actor=CLI_ACTOR)
            return f"rule {args.remove} removed from {args.scope}"
        if "/" in args.scope:
            rules = await service.rules_over(args.scope)
        else:
            rules = await service.rules(args.scope)
        if not rules:
            return f"{args.scope}: no immutability rules"
        return "\n".join(["ID\tSCOPE\tPATTERN\tCREATED BY", *map(_line, rules)])

    status, text = run_with_engine(args, action)
    if text:
        print(text)
    return status
