"""`berth-hub repo retention|retention-run|retention-runs` and `berth-hub org retention`.

A policy is the JSON object `registry.hub.retention_policy` describes, e.g.
`{"keep_newest": 10, "keep_matching": ["release-*"], "schedule_hours": 24}`; a tag is kept when
any rule keeps it. `retention-run` is a dry run unless `--delete` is given.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.db.writer import EngineWriter
from registry.errors import InvalidRequestError
from registry.hub.audit import AuditLog
from registry.hub.retention import PolicyView, RetentionService

__all__ = [
    "add_policy_arguments",
    "add_run_arguments",
    "run_history",
    "run_policy",
    "run_retention",
]


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """`--set JSON` or `--clear`; neither shows the policy."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--set", metavar="JSON", help="e.g. '{\"keep_newest\": 10}'")
    choice.add_argument("--clear", action="store_true", help="remove the policy")


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--delete", action="store_true", help="delete the tags (default: only list them)"
    )


def _service(engine: AsyncEngine) -> RetentionService:
    # Tag deletions run as one transaction on the engine, as on PostgreSQL.
    return RetentionService(engine, EngineWriter(engine), AuditLog(engine))


def _document(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidRequestError(f"--set is not JSON: {exc}") from exc


def _describe(scope: str, view: PolicyView | None) -> str:
    if view is None:
        return f"{scope}: no retention policy"
    whose = "" if view.scope == scope else f" (its namespace {view.scope}'s)"
    nxt = (
        f"\nnext scheduled run: {view.next_run_at:%Y-%m-%d %H:%M:%S} UTC"
        if view.next_run_at
        else ""
    )
    policy = json.dumps(view.policy.to_dict(), sort_keys=True)
    return f"{scope}: retention policy{whose} {policy}{nxt}"


def _print(status: int, text: str | None) -> int:
    if text:
        print(text)
    return status


def run_policy(args: argparse.Namespace) -> int:
    """Show, set or clear the retention policy of a repository or namespace."""

    async def action(engine: AsyncEngine) -> str:
        service = _service(engine)
        if args.set is not None or args.clear:
            document = None if args.clear else _document(args.set)
            await service.set_policy(args.scope, document, actor=CLI_ACTOR)
        if "/" in args.scope:
            return _describe(args.scope, await service.effective(args.scope))
        return _describe(args.scope, await service.show(args.scope))

    return _print(*run_with_engine(args, action))


def run_retention(args: argparse.Namespace) -> int:
    """Run a repository's policy: list (default) or delete the tags it does not keep."""

    async def action(engine: AsyncEngine) -> str:
        result = await _service(engine).run(
            args.name, dry_run=not args.delete, started_by=CLI_ACTOR
        )
        verb = "removed" if args.delete else "would remove"
        lines = [f"{args.name}: {verb} {len(result.removed)} tags, kept {result.kept}"]
        return "\n".join([*lines, *result.removed])

    return _print(*run_with_engine(args, action))


def run_history(args: argparse.Namespace) -> int:
    """The repository's latest retention runs."""

    async def action(engine: AsyncEngine) -> str:
        runs = await _service(engine).history(args.name)
        if not runs:
            return f"{args.name}: no retention runs"
        lines = ["ID\tSTARTED (UTC)\tBY\tDRY RUN\tREMOVED\tKEPT"]
        for run in runs:
            removed = len(json.loads(run.removed))
            lines.append(
                f"{run.id}\t{run.started_at:%Y-%m-%d %H:%M:%S}\t{run.started_by}\t"
                f"{'yes' if run.dry_run else 'no'}\t{removed}\t{run.kept}"
            )
        return "\n".join(lines)

    return _print(*run_with_engine(args, action))
