"""`berth-hub webhook add|ls|rm|deliveries|redeliver`: webhooks of a namespace.

Works on the hub's database, hubs running or not: the hubs' delivery workers pick up what is
queued here within their poll interval. The secret is printed once, at `add`.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.common import settings_from_args
from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.db.writer import EngineWriter
from registry.hub.audit import AuditLog
from registry.keysecret import key_encryption_secret
from registry.webhooks.addresses import AddressPolicy, own_addresses
from registry.webhooks.events import EventType, PayloadFormat
from registry.webhooks.secretseal import WebhookSecretSealer
from registry.webhooks.service import WebhookService

T = TypeVar("T")


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="webhook_command", required=True)
    add = verbs.add_parser("add", help="add a webhook and print its signing secret once")
    add.add_argument("namespace")
    add.add_argument("url")
    add.add_argument("--repo", help="only this repository of the namespace")
    add.add_argument(
        "--event",
        action="append",
        choices=[e.value for e in EventType],
        help="an event to send (repeat for several; default: all but pull)",
    )
    add.add_argument("--format", choices=[f.value for f in PayloadFormat], default="docker")
    add_common(add)
    add.set_defaults(func=run_add)
    listing = verbs.add_parser("ls", help="list a namespace's webhooks")
    listing.add_argument("namespace")
    add_common(listing)
    listing.set_defaults(func=run_ls)
    remove = verbs.add_parser("rm", help="remove a webhook and its delivery log")
    remove.add_argument("namespace")
    remove.add_argument("id", type=int)
    add_common(remove)
    remove.set_defaults(func=run_rm)
    log = verbs.add_parser("deliveries", help="a webhook's deliveries, newest first")
    log.add_argument("namespace")
    log.add_argument("id", type=int)
    log.add_argument("-n", type=int, default=20, help="how many (default 20)")
    add_common(log)
    log.set_defaults(func=run_deliveries)
    again = verbs.add_parser("redeliver", help="send a delivery's event again")
    again.add_argument("namespace")
    again.add_argument("id", type=int)
    again.add_argument("delivery", type=int)
    add_common(again)
    again.set_defaults(func=run_redeliver)


def _run(
    args: argparse.Namespace, action: Callable[[WebhookService], Awaitable[T]]
) -> tuple[int, T | None]:
    settings = settings_from_args(args)
    policy = AddressPolicy.parse(
        settings.webhook_allowed_targets, own_addresses(settings.listen_host)
    )
    sealer = WebhookSecretSealer(key_encryption_secret(settings))

    def with_service(engine: AsyncEngine) -> Awaitable[T]:
        service = WebhookService(engine, EngineWriter(engine), policy, AuditLog(engine), sealer)
        return action(service)

    return run_with_engine(args, with_service)


def run_add(args: argparse.Namespace) -> int:
    status, created = _run(
        args,
        lambda hooks: hooks.create(
            args.namespace,
            args.url,
            events=args.event,
            payload_format=args.format,
            repository=args.repo,
            actor=CLI_ACTOR,
        ),
    )
    if created is not None:
        record, secret = created
        print(
            f"webhook {record.id} of {record.repository or record.namespace} "
            f"({','.join(record.events)}; {record.payload_format}); signing secret:"
        )
        print(secret)
    return status


def run_ls(args: argparse.Namespace) -> int:
    status, records = _run(args, lambda hooks: hooks.list(args.namespace))
    if records is not None:
        print(f"{'ID':<6} {'SCOPE':<30} {'FORMAT':<12} {'EVENTS':<40} URL")
        for r in records:
            print(
                f"{r.id:<6} {r.repository or r.namespace:<30} {r.payload_format:<12} "
                f"{','.join(r.events):<40} {r.url}"
            )
    return status


def run_rm(args: argparse.Namespace) -> int:
    status, _ = _run(args, lambda hooks: hooks.delete(args.namespace, args.id, actor=CLI_ACTOR))
    if status == 0:
        print(f"removed webhook {args.id} of {args.namespace}")
    return status


def run_deliveries(args: argparse.Namespace) -> int:
    status, records = _run(args, lambda hooks: hooks.deliveries(args.namespace, args.id, args.n))
    if records is not None:
        print(
            f"{'ID':<8} {'EVENT':<18} {'STATUS':<10} {'ATTEMPTS':<9} {'CODE':<5} "
            f"{'LATENCY':<9} {'CREATED':<20} ERROR"
        )
        for r in records:
            created = r.created_at.strftime("%Y-%m-%d %H:%M:%S")
            latency = f"{r.latency_ms}ms" if r.latency_ms is not None else "-"
            print(
                f"{r.id:<8} {r.event_type:<18} {r.state:<10} {r.attempts:<9} "
                f"{r.response_code or '-':<5} {latency:<9} {created:<20} {r.last_error or ''}"
            )
    return status


def run_redeliver(args: argparse.Namespace) -> int:
    status, new_id = _run(
        args, lambda hooks: hooks.redeliver(args.namespace, args.id, args.delivery)
    )
    if new_id is not None:
        print(f"queued delivery {new_id} (event of delivery {args.delivery})")
    return status
