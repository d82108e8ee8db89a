"""`berth` argument parsing, dispatch, and the one place errors become messages and exit codes.

Grammar follows the Docker CLI: `berth [--root DIR] GROUP VERB ...` (`berth image pull`) and
short forms (`berth pull`, `berth images`, `berth rmi`). To add a command group, write its
module (see `cli.base`) and append it to `COMMAND_GROUPS`; nothing else changes here.

Exit codes (as Docker's CLI): 0 success, 1 an operation failed, 125 bad usage (unknown flag,
missing argument), 130 interrupted by SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import BinaryIO, NoReturn, TextIO

from runtime_client.cli import container, image, network, system, toplevel, trust
from runtime_client.cli.base import CliContext, CommandGroup, add_verb
from runtime_client.config import ClientConfig
from runtime_client.errors import RuntimeClientError, UsageError

__all__ = ["COMMAND_GROUPS", "EXIT_USAGE", "main", "run"]

logger = logging.getLogger(__name__)

# Append a group module's GROUP here to add its commands (and short forms) to `berth`.
COMMAND_GROUPS: list[CommandGroup] = [
    image.GROUP,
    container.GROUP,
    network.GROUP,
    system.GROUP,
    trust.GROUP,
    toplevel.GROUP,
]

EXIT_FAILURE = 1
EXIT_USAGE = 125
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exceptions, worded like Docker's CLI."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            message = "unknown flag: " + message.removeprefix("unrecognized arguments: ")
        raise UsageError(f"{message}\nSee '{self.prog} --help'.")


def build_parser() -> argparse.ArgumentParser:
    """The full `berth` parser, from `COMMAND_GROUPS`."""
    parser = _Parser(prog="berth", description="A daemonless, docker-like container client.")
    parser.add_argument(
        "--root", default=None, help="root directory of berth state (default $BERTH_ROOT or "
        "/var/lib/berth)"
    )
    parser.add_argument("-D", "--debug", action="store_true", help="enable debug output")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for group in COMMAND_GROUPS:
        if group.name is not None:
            group_parser = top.add_parser(group.name, help=group.help, description=group.help)
            verbs = group_parser.add_subparsers(dest="verb_name", metavar="COMMAND",
                                                parser_class=_Parser)
            group_parser.set_defaults(group_parser=group_parser)
            for verb in group.verbs:
                add_verb(verbs, verb.name, verb, verb.aliases)
        for verb in group.verbs:
            for shortcut in verb.shortcuts:
                add_verb(top, shortcut, verb)
    return parser


def run(
    argv: Sequence[str],
    *,
    stdin: BinaryIO,
    stdout: TextIO,
    stderr: TextIO,
    env: Mapping[str, str],
) -> int:
    """Run one `berth` command line and return its exit code (never raises for user errors)."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except UsageError as exc:
        stderr.write(f"berth: {exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING,
        stream=stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    verb = getattr(args, "verb", None)
    if verb is None:
        (getattr(args, "group_parser", None) or parser).print_help(stdout)
        return 0
    ctx = CliContext(ClientConfig.resolve(args.root, env), stdin, stdout, stderr, env)
    try:
        return int(verb.module.run(args, ctx))
    except UsageError as exc:
        stderr.write(f"berth: {exc}\n")
        return EXIT_USAGE
    except RuntimeClientError as exc:
        prefix = "Error response from daemon: " if exc.daemon_style else "Error: "
        stderr.write(f"{prefix}{exc}\n")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        stderr.write("\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `berth` and `python -m runtime_client`."""
    return run(
        sys.argv[1:] if argv is None else argv,
        stdin=sys.stdin.buffer,
        stdout=sys.stdout,
        stderr=sys.stderr,
        env=os.environ,
    )
