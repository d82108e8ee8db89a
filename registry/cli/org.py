"""`berth-hub org ...`: organizations, teams, members, role grants, namespace defaults."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from registry.auth.policy import ROLES
from registry.cli.hubdata import CLI_ACTOR, run_accounts
from registry.cli.immutable import add_immutable_arguments, run_immutable
from registry.cli.policy import add_policy_arguments, run_org_policy
from registry.cli.retention import add_policy_arguments as add_retention_arguments
from registry.cli.retention import run_policy as run_retention_policy
from registry.hub.accounts import AccountService


def register(parser: argparse.ArgumentParser, add_common: Callable) -> None:
    verbs = parser.add_subparsers(dest="org_command", required=True)

    def verb(
        name: str, help_text: str, func: Callable, *positionals: str
    ) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text)
        for positional in positionals:
            sub.add_argument(positional)
        add_common(sub)
        sub.set_defaults(func=func)
        return sub

    verb("add", "create an organization", run_add, "name").add_argument(
        "--owner", required=True, help="user put in the org's owners team"
    )
    verb("rm", "remove an organization (its repositories stay)", run_rm, "name")
    verb("ls", "list organizations", run_ls)
    verb("show", "an organization's teams, members and grants", run_show, "name")
    verb("team-add", "create a team", run_team_add, "org", "team")
    verb("team-rm", "remove a team", run_team_rm, "org", "team")
    verb("member-add", "add a user to a team", run_member_add, "org", "team", "user")
    verb("member-rm", "remove a user from a team", run_member_rm, "org", "team", "user")
    grant = verb(
        "grant", "give a team a role on the namespace or one repository", run_grant, "org", "team"
    )
    grant.add_argument("role", choices=ROLES)
    grant.add_argument("--repo", help="one repository (ORG/NAME or NAME) instead of all")
    revoke = verb("revoke", "take a team's grant away", run_revoke, "org", "team")
    revoke.add_argument("--repo", help="the repository the grant was for")
    default = verb(
        "default",
        "visibility of repositories first pushed to a namespace",
        run_default,
        "namespace",
    )
    default.add_argument("visibility", choices=("public", "private"))
    trust = verb(
        "trust-required",
        "whether the namespace's repositories (those without their own setting) need "
        "content trust to be pulled",
        run_trust_required,
        "namespace",
    )
    trust.add_argument("setting", choices=("on", "off"))
    policy = verb(
        "policy",
        "the signature policy of the namespace's repositories without their own",
        run_org_policy,
        "namespace",
    )
    add_policy_arguments(policy)
    immutable = verb(
        "immutable",
        "immutability rules: tag patterns no one may overwrite or delete in the namespace",
        run_immutable,
        "scope",
    )
    add_immutable_arguments(immutable)
    kept = verb(
        "retention",
        "the retention policy of the namespace's repositories without their own",
        run_retention_policy,
        "scope",
    )
    add_retention_arguments(kept)


def _run(args: argparse.Namespace, action: Callable, done: str) -> int:
    status, _ = run_accounts(args, action)
    if status == 0:
        print(done)
    return status


def run_add(args: argparse.Namespace) -> int:
    async def add(accounts: AccountService) -> None:
        await accounts.create_org(args.name, args.owner, actor=CLI_ACTOR)

    return _run(args, add, f"created organization {args.name} (owner {args.owner})")


def run_rm(args: argparse.Namespace) -> int:
    async def remove(accounts: AccountService) -> None:
        await accounts.remove_org(args.name, actor=CLI_ACTOR)

    return _run(args, remove, f"removed organization {args.name}")


def run_ls(args: argparse.Namespace) -> int:
    status, orgs = run_accounts(args, lambda accounts: accounts.orgs())
    for org in orgs or []:
        print(f"{org.name}\t{'public' if org.default_public else 'private'} by default")
    return status


def run_show(args: argparse.Namespace) -> int:
    status, org = run_accounts(args, lambda accounts: accounts.org(args.name))
    if org is not None:
        print(f"{org.name} ({'public' if org.default_public else 'private'} by default)")
        for team in org.teams:
            grants = ", ".join(f"{role} on {repo or '*'}" for repo, role in team.grants) or "-"
            print(f"  team {team.name}: members {', '.join(team.members) or '-'}; {grants}")
    return status


def run_team_add(args: argparse.Namespace) -> int:
    async def add(accounts: AccountService) -> None:
        await accounts.add_team(args.org, args.team, actor=CLI_ACTOR)

    return _run(args, add, f"created team {args.org}/{args.team}")


def run_team_rm(args: argparse.Namespace) -> int:
    async def remove(accounts: AccountService) -> None:
        await accounts.remove_team(args.org, args.team, actor=CLI_ACTOR)

    return _run(args, remove, f"removed team {args.org}/{args.team}")


def run_member_add(args: argparse.Namespace) -> int:
    async def add(accounts: AccountService) -> None:
        await accounts.add_member(args.org, args.team, args.user, actor=CLI_ACTOR)

    return _run(args, add, f"added {args.user} to {args.org}/{args.team}")


def run_member_rm(args: argparse.Namespace) -> int:
    async def remove(accounts: AccountService) -> None:
        await accounts.remove_member(args.org, args.team, args.user, actor=CLI_ACTOR)

    return _run(args, remove, f"removed {args.user} from {args.org}/{args.team}")


def run_grant(args: argparse.Namespace) -> int:
    async def grant(accounts: AccountService) -> None:
        await accounts.grant(args.org, args.team, args.role, args.repo, actor=CLI_ACTOR)

    where = args.repo or f"{args.org}/*"
    return _run(args, grant, f"team {args.org}/{args.team} has {args.role} on {where}")


def run_revoke(args: argparse.Namespace) -> int:
    async def revoke(accounts: AccountService) -> None:
        await accounts.revoke(args.org, args.team, args.repo, actor=CLI_ACTOR)

    return _run(args, revoke, f"revoked the grant of {args.org}/{args.team}")


def run_default(args: argparse.Namespace) -> int:
    public = args.visibility == "public"

    async def default(accounts: AccountService) -> None:
        await accounts.set_default_visibility(args.namespace, public, actor=CLI_ACTOR)

    return _run(args, default, f"new repositories in {args.namespace} start {args.visibility}")


def run_trust_required(args: argparse.Namespace) -> int:
    required = args.setting == "on"

    async def set_trust(accounts: AccountService) -> None:
        await accounts.set_namespace_trust(args.namespace, required, actor=CLI_ACTOR)

    needed = "need" if required else "do not need"
    return _run(args, set_trust, f"repositories in {args.namespace} {needed} content trust")
