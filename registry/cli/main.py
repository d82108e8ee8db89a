"""Argument parsing for `berth-hub`; each command group registers itself from its module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from registry.cli import audit, config, db, gc, keys, org, repo, serve, tls, token, trust, user
from registry.config import ConfigError

# Command-group modules: each has `register(subparsers)` setting `func` on its parsers.
COMMAND_GROUPS = [serve, db, tls, gc, config, user, org, repo, token, keys, trust, audit]


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """Options every command that touches the hub's data shares."""
    parser.add_argument("--config", help="TOML configuration file (env BERTH_CONFIG)")
    parser.add_argument("--data", help="data directory (env BERTH_DATA; default ./berth-data)")
    parser.add_argument("--database", help="SQLAlchemy URL (env BERTH_DATABASE_URL)")
    parser.add_argument(
        "--storage", help="storage URL, file:///path or s3://bucket/prefix (env BERTH_STORAGE)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="berth-hub", description="Berth container hub")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.register(subparsers, add_common_options)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"berth-hub: configuration: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
