"""Argument parsing for `berth-hub`; each command group registers itself from its module."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from registry.config import ConfigError

# Command groups: name -> help. The module `registry.cli.<name>` has `register(parser,
# add_common)` setting `func` on its parsers. Only the group being run is imported, so a
# command does not pay for the imports of the others (the server, alembic, boto3).
COMMAND_GROUPS = {
    "serve": "run the hub",
    "db": "database schema",
    "tls": "TLS helpers",
    "gc": "remove untagged manifests and unreferenced blobs (online)",
    "config": "configuration file and environment",
    "user": "user accounts",
    "org": "organizations, teams and roles",
    "repo": "repository settings",
    "token": "personal access tokens",
    "robot": "organisations' robot accounts",
    "keys": "the hub's sealed private keys",
    "proxy": "the pull-through cache's upstream credentials",
    "trust": "content-trust data (Notary) administration",
    "audit": "the audit log",
    "webhook": "signed webhooks of namespaces and their deliveries",
    "quota": "storage quotas of namespaces and their usage",
    "replication": "replication rules between this hub and other registries, and their runs",
}


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that touches the hub's data shares."""
    parser.add_argument("--config", help="TOML configuration file (env BERTH_CONFIG)")
    parser.add_argument("--data", help="data directory (env BERTH_DATA; default ./berth-data)")
    parser.add_argument("--database", help="SQLAlchemy URL (env BERTH_DATABASE_URL)")
    parser.add_argument(
        "--storage", help="storage URL, file:///path or s3://bucket/prefix (env BERTH_STORAGE)"
    )


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser for `argv`: every group listed, only the one it names filled in."""
    parser = argparse.ArgumentParser(prog="berth-hub", description="Berth container hub")
    subparsers = parser.add_subparsers(dest="command", required=True)
    named = next((word for word in argv if not word.startswith("-")), None)
    for name, help_text in COMMAND_GROUPS.items():
        group = subparsers.add_parser(name, help=help_text)
        if name == named:
            importlib.import_module(f"registry.cli.{name}").register(group, add_common_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Everything the hub writes (database, keys, blobs) is its own user's alone.
    os.umask(0o077)
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"berth-hub: configuration: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
