"""`berth-hub repo policy` and `berth-hub org policy`: signature policies from a policy file.

A policy file is the JSON document `trust.sigs.policy` describes (formats, cosign keys,
Notation trust policy and trust stores, platforms). The policy decides what counts as signed
for repositories that require content trust (`repo trust-required`, `org trust-required`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from registry.cli.hubdata import CLI_ACTOR, run_with_engine
from registry.errors import InvalidRequestError
from registry.hub.audit import AuditLog
from registry.hub.signature_policies import SignaturePolicyService

__all__ = ["add_policy_arguments", "run_org_policy", "run_repo_policy"]


def add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    """`--file FILE` to set, `--clear` to remove; neither shows the current policy."""
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--file", type=Path, help="JSON signature policy to set")
    choice.add_argument("--clear", action="store_true", help="remove the policy")


def _document(args: argparse.Namespace) -> Any:
    try:
        return json.loads(args.file.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidRequestError(f"cannot read policy file {args.file}: {exc}") from exc


def run_repo_policy(args: argparse.Namespace) -> int:
    """Show, set or clear a repository's signature policy."""

    async def action(engine: AsyncEngine) -> str:
        service = SignaturePolicyService(engine, AuditLog(engine))
        if args.file is not None:
            view = await service.set_repository(args.name, _document(args), actor=CLI_ACTOR)
        elif args.clear:
            view = await service.set_repository(args.name, None, actor=CLI_ACTOR)
        else:
            view = await service.show(args.name)
        if view.version is None:
            return f"{args.name}: no signature policy (content trust means Docker Content Trust)"
        whose = "its own" if view.label == "own" else "its namespace's"
        head = f"{args.name}: signature policy {view.version[:12]} ({whose})"
        if args.file is None and not args.clear:
            return head + "\n" + json.dumps(view.document, indent=2, sort_keys=True)
        return head

    status, line = run_with_engine(args, action)
    if line:
        print(line)
    return status


def run_org_policy(args: argparse.Namespace) -> int:
    """Show, set or clear the signature policy of a namespace's repositories without their own."""

    async def action(engine: AsyncEngine) -> str:
        service = SignaturePolicyService(engine, AuditLog(engine))
        document = None
        if args.file is None and not args.clear:
            version, document = await service.show_namespace(args.namespace)
        else:
            new = None if args.clear else _document(args)
            version = await service.set_namespace(args.namespace, new, actor=CLI_ACTOR)
        if version is None:
            return f"{args.namespace}: no signature policy"
        head = f"{args.namespace}: signature policy {version[:12]}"
        if document is not None:
            return head + "\n" + json.dumps(document, indent=2, sort_keys=True)
        return head

    status, line = run_with_engine(args, action)
    if line:
        print(line)
    return status
