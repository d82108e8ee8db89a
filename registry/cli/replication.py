"""`berth-hub replication add|ls|show|run|pause|resume|rm|runs`: replication rules.

Commands work on the hub's database, hub running or not; `run` copies in this process (the
rule's lease keeps it from overlapping a run on a hub replica) and prints the run's counts.
A remote password is read from standard input (`--password-stdin`), never from the command
line where `ps` would show it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.common import print_table, settings_from_args
from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.hub.audit import AuditLog
from registry.replication.service import ReplicationService, RunView

__all__ = ["register"]


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="replication_command", required=True)
    add = verbs.add_parser("add", help="create a replication rule")
    add.add_argument("name")
    add.add_argument(
        "--direction",
        choices=("push", "pull"),
        required=True,
        help="push: this hub to the remote; pull: the remote into this hub",
    )
    add.add_argument("--url", required=True, help="the remote registry, http(s)://host[:port]")
    add.add_argument(
        "--repositories",
        required=True,
        help="glob over the source's repository names, e.g. 'team/*'",
    )
    add.add_argument("--tags", default="*", help="tag glob (default: every tag)")
    add.add_argument("--destination", default="", help="prefix of the destination's names")
    add.add_argument("--username", help="the remote account (its password on stdin)")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the remote password from standard input"
    )
    add.add_argument("--insecure", action="store_true", help="do not verify the remote's TLS")
    add.add_argument("--ca-file", type=Path, help="PEM CA certificates the remote's TLS uses")
    add.add_argument("--on-push", action="store_true", help="copy each push (push rules)")
    add.add_argument("--every", type=int, metavar="MINUTES", help="run on this schedule")
    add.add_argument("--paused", action="store_true", help="create the rule paused")
    add.set_defaults(func=run_add)
    listing = verbs.add_parser("ls", help="list the rules")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(func=run_list)
    for verb, func, help_text in (
        ("show", run_show, "show a rule"),
        ("run", run_now, "run a rule now, in this process"),
        ("pause", run_pause, "pause a rule (no trigger runs it)"),
        ("resume", run_resume, "resume a paused rule"),
        ("rm", run_remove, "delete a rule and its history"),
    ):
        command = verbs.add_parser(verb, help=help_text)
        command.add_argument("name")
        command.set_defaults(func=func)
    history = verbs.add_parser("runs", help="a rule's runs (or all rules'), newest first")
    history.add_argument("name", nargs="?")
    history.add_argument("--format", choices=("table", "json"), default="table")
    history.set_defaults(func=run_history)
    for command in (
        add,
        listing,
        history,
        *(verbs.choices[v] for v in ("show", "run", "pause", "resume", "rm")),
    ):
        add_common(command)


def _service(args: argparse.Namespace, engine: AsyncEngine) -> ReplicationService:
    # Built here, not at import: the storage driver and services only for this command.
    from registry.app import storage_driver
    from registry.db.hotreads import create_hot_reads
    from registry.db.writer import EngineWriter
    from registry.replication.wiring import replication_service
    from registry.services.blobs import BlobService
    from registry.services.manifests import ManifestService
    from registry.services.uploads import UploadService

    settings = settings_from_args(args)
    driver, reads, writer = storage_driver(settings), create_hot_reads(engine), EngineWriter(engine)
    return replication_service(
        settings,
        engine,
        ManifestService(engine, reads, writer),
        BlobService(driver, reads, writer),
        UploadService(driver, writer),
        AuditLog(engine),
    )


def _run(args: argparse.Namespace, action: Callable[[ReplicationService], Any]) -> Any:
    status, result = run_with_engine(args, lambda engine: action(_service(args, engine)))
    if status:
        raise SystemExit(status)
    return result


def run_add(args: argparse.Namespace) -> int:
    document: dict[str, Any] = {
        "name": args.name,
        "direction": args.direction,
        "url": args.url,
        "repositories": args.repositories,
        "tags": args.tags,
        "destination": args.destination,
        "tls_verify": not args.insecure,
        "on_push": args.on_push,
        "schedule_minutes": args.every,
        "enabled": not args.paused,
    }
    if args.username is not None:
        if not args.password_stdin:
            print("berth-hub: --username needs --password-stdin", file=sys.stderr)
            return 2
        document["username"] = args.username
        document["password"] = sys.stdin.readline().rstrip("\r\n")
    if args.ca_file is not None:
        document["ca_pem"] = args.ca_file.read_text()
    rule = _run(args, lambda service: service.add(document, actor=CLI_ACTOR))
    print(f"created replication rule {rule.name} ({rule.direction} {rule.url})")
    return 0


def _triggers(rule: dict[str, Any]) -> str:
    triggers = ["manual"]
    if rule["on_push"]:
        triggers.append("push")
    if rule["schedule_minutes"]:
        triggers.append(f"every {rule['schedule_minutes']}m")
    return ",".join(triggers)


def run_list(args: argparse.Namespace) -> int:
    async def action(service: ReplicationService) -> list[dict[str, Any]]:
        return [rule.to_dict() for rule in await service.rules()]

    rules = _run(args, action)
    if args.format == "json":
        json.dump(rules, sys.stdout, indent=2)
        print()
        return 0
    print_table(
        ["NAME", "DIRECTION", "REMOTE", "REPOSITORIES", "TAGS", "DESTINATION", "TRIGGERS",
         "STATE"],
        [
            [r["name"], r["direction"], r["url"], r["repositories"], r["tags"],
             r["destination"] or "-", _triggers(r), "enabled" if r["enabled"] else "paused"]
            for r in rules
        ],
    )  # fmt: skip
    return 0


def run_show(args: argparse.Namespace) -> int:
    async def action(service: ReplicationService) -> dict[str, Any]:
        return (await service.rule(args.name)).to_dict()

    json.dump(_run(args, action), sys.stdout, indent=2)
    print()
    return 0


def _summary(run: RunView) -> str:
    lines = [
        f"run {run.id} of {run.rule}: {run.status}, {run.copied} copied, {run.skipped} skipped,"
        f" {run.failed} failed, {run.retries} retries"
    ]
    lines += [f"  {e['item']}: {e['error']} (after {e['attempts']} attempts)" for e in run.errors]
    return "\n".join(lines)


def run_now(args: argparse.Namespace) -> int:
    async def action(service: ReplicationService) -> RunView:
        return await service.run(args.name, started_by=CLI_ACTOR)

    run = _run(args, action)
    print(_summary(run))
    return 0 if run.status == "succeeded" else 1


def _set(args: argparse.Namespace, enabled: bool) -> int:
    async def action(service: ReplicationService) -> None:
        await service.set_enabled(args.name, enabled, actor=CLI_ACTOR)

    _run(args, action)
    print(f"{args.name}: {'resumed' if enabled else 'paused'}")
    return 0


def run_pause(args: argparse.Namespace) -> int:
    return _set(args, False)


def run_resume(args: argparse.Namespace) -> int:
    return _set(args, True)


def run_remove(args: argparse.Namespace) -> int:
    async def action(service: ReplicationService) -> None:
        await service.remove(args.name, actor=CLI_ACTOR)

    _run(args, action)
    print(f"removed replication rule {args.name}")
    return 0


def run_history(args: argparse.Namespace) -> int:
    async def action(service: ReplicationService) -> list[dict[str, Any]]:
        return [run.to_dict() for run in await service.history(args.name)]

    runs = _run(args, action)
    if args.format == "json":
        json.dump(runs, sys.stdout, indent=2)
        print()
        return 0
    print_table(
        ["ID", "RULE", "TRIGGER", "BY", "STARTED (UTC)", "STATUS", "COPIED", "SKIPPED", "FAILED",
         "RETRIES"],
        [
            [r["id"], r["rule"], r["trigger"], r["started_by"], r["started_at"], r["status"],
             r["copied"], r["skipped"], r["failed"], r["retries"]]
            for r in runs
        ],
    )  # fmt: skip
    return 0
