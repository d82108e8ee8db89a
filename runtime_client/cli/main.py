"""`berth` argument parsing, dispatch, and the one place errors become messages and exit codes.

Grammar follows the Docker CLI: `berth [--root DIR] GROUP VERB ...` (`berth image pull`) and
short forms (`berth pull`, `berth images`, `berth rmi`). To add a command group, write its
module (see `cli.base`) and add it to `command_groups()`; nothing else changes here.

Only the command being run is built: when the command line names one verb (`berth run`,
`berth network ls`), the parser holds that verb alone and only its module is imported, so
`berth run` does not pay for parsing tables, or importing modules, of the other sixty.

Exit codes (as Docker's CLI): 0 success, 1 an operation failed, 125 bad usage (unknown flag,
missing argument), 130 interrupted by SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import BinaryIO, NoReturn, TextIO

from runtime_client.cli import container, image, network, system, toplevel, trust, volume
from runtime_client.cli.base import CliContext, CommandGroup, add_verb
from runtime_client.config import ClientConfig
from runtime_client.errors import RuntimeClientError, TemplateFormatError, UsageError

__all__ = ["EXIT_USAGE", "command_groups", "main", "run"]

logger = logging.getLogger(__name__)


def command_groups() -> list[CommandGroup]:
    """Every command group, in help order. Add a group module's GROUP here."""
    return [image.GROUP, container.GROUP, network.GROUP, volume.GROUP, system.GROUP,
            trust.GROUP, toplevel.GROUP]


def _command_words(argv: Sequence[str]) -> list[str]:
    """The words from the command on, after the global options (`--root DIR`, `-D`)."""
    words = list(argv)
    while words:
        word = words[0]
        if word == "--root":
            words = words[2:]
        elif word.startswith("--root=") or word in ("-D", "--debug"):
            words = words[1:]
        else:
            return [] if word.startswith("-") else words
    return []


def groups_for(argv: Sequence[str]) -> list[CommandGroup]:
    """The groups needed to parse `argv`: just the one verb it names, else all of them."""
    words = _command_words(argv)
    groups = command_groups()
    if not words:
        return groups
    for group in groups:
        for verb in group.verbs:
            if words[0] in verb.shortcuts:
                return [CommandGroup(None, "", (replace(verb, aliases=(), shortcuts=(words[0],)),))]
        if group.name is not None and words[0] == group.name and len(words) > 1:
            for verb in group.verbs:
                if words[1] == verb.name or words[1] in verb.aliases:
                    return [replace(group, verbs=(replace(verb, shortcuts=()),))]
    return groups


EXIT_FAILURE = 1
EXIT_USAGE = 125
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exceptions, worded like Docker's CLI."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments: "):
            message = "unknown flag: " + message.removeprefix("unrecognized arguments: ")
        raise UsageError(f"{message}\nSee '{self.prog} --help'.")


def build_parser(groups: Sequence[CommandGroup] | None = None) -> argparse.ArgumentParser:
    """The `berth` parser for `groups` (default: all of `command_groups()`)."""
    parser = _Parser(prog="berth", description="A daemonless, docker-like container client.")
    parser.add_argument(
        "--root", default=None, help="root directory of berth state (default $BERTH_ROOT or "
        "/var/lib/berth)"
    )
    parser.add_argument("-D", "--debug", action="store_true", help="enable debug output")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for group in command_groups() if groups is None else groups:
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
    parser = build_parser(groups_for(argv))
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
    except TemplateFormatError as exc:
        stderr.write(f"{exc}\n")
        return exc.exit_code
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
