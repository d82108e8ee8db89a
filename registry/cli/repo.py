"""`berth-hub repo ...`: repository settings: whether pulls need content trust, which
signatures count (the signature policy), which tags are immutable, and which tags retention
keeps."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli import retention
from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.cli.immutable import add_immutable_arguments, run_immutable
from registry.cli.policy import add_policy_arguments, run_repo_policy
from registry.hub.audit import AuditLog
from registry.hub.pulls import PullCounter
from registry.hub.repositories import RepositoryService
from registry.storage.driver.inmemory import InMemoryDriver

_SETTINGS = {"on": True, "off": False, "inherit": None}


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="repo_command", required=True)
    trust = verbs.add_parser(
        "trust-required",
        help="serve only signed manifests (on), any (off), or follow the namespace (inherit)",
    )
    trust.add_argument("name", help="repository, e.g. team/app")
    trust.add_argument("setting", nargs="?", choices=tuple(_SETTINGS), help="omit to show")
    add_common(trust)
    trust.set_defaults(func=run_trust_required)
    policy = verbs.add_parser(
        "policy",
        help="the signature policy: which formats and signers count when trust is required",
    )
    policy.add_argument("name", help="repository, e.g. team/app")
    add_policy_arguments(policy)
    add_common(policy)
    policy.set_defaults(func=run_repo_policy)
    immutable = verbs.add_parser(
        "immutable", help="immutability rules: tag patterns no one may overwrite or delete"
    )
    immutable.add_argument("scope", metavar="name", help="repository, e.g. team/app")
    add_immutable_arguments(immutable)
    add_common(immutable)
    immutable.set_defaults(func=run_immutable)
    policy_help = "the retention policy (its own, else its namespace's)"
    kept = verbs.add_parser("retention", help=policy_help)
    kept.add_argument("scope", metavar="name", help="repository, e.g. team/app")
    retention.add_policy_arguments(kept)
    add_common(kept)
    kept.set_defaults(func=retention.run_policy)
    run = verbs.add_parser("retention-run", help="run the retention policy (dry unless --delete)")
    run.add_argument("name", help="repository, e.g. team/app")
    retention.add_run_arguments(run)
    add_common(run)
    run.set_defaults(func=retention.run_retention)
    runs = verbs.add_parser("retention-runs", help="the latest retention runs")
    runs.add_argument("name", help="repository, e.g. team/app")
    add_common(runs)
    runs.set_defaults(func=retention.run_history)


def run_trust_required(args: argparse.Namespace) -> int:
    async def action(engine: AsyncEngine) -> str:
        # Settings touch only the database: no blob driver or pull counter is used.
        service = RepositoryService(
            engine, InMemoryDriver(), PullCounter(engine, 0), AuditLog(engine)
        )
        if args.setting is None:
            setting = await service.trust_setting(args.name)
        else:
            setting = await service.set_trust_required(
                args.name, _SETTINGS[args.setting], actor=CLI_ACTOR
            )
        required = "required" if setting.required else "not required"
        return f"{args.name}: content trust {required} (setting {setting.label})"

    status, line = run_with_engine(args, action)
    if line:
        print(line)
    return status
