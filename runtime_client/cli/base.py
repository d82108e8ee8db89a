"""The small contract between `cli.main` and the command modules.

A verb module (`cli/<verb>.py`) exposes `add_arguments(parser)` and `run(args, ctx) -> int`.
A group module (`cli/image.py`, ...) exposes `GROUP: CommandGroup`, listing its verbs by module
name, their aliases inside the group and the top-level short forms (`berth pull` = `berth image
pull`). Groups with `name=None` only add top-level commands (`login`, `search`). A verb module
is imported only when its parser is built, so one command does not pay for all the others.
"""

from __future__ import annotations

import argparse
import importlib
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from runtime_client.config import ClientConfig, Stores
    from runtime_client.distribution.progress import Progress

__all__ = [
    "CliContext",
    "CommandGroup",
    "Verb",
    "add_content_trust_flag",
    "add_verb",
    "add_verify_flags",
    "images_in_use",
    "progress_for",
    "stores_of",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CliContext:
    """What a verb gets besides its arguments: configuration, streams and environment."""

    config: ClientConfig
    stdin: BinaryIO
    stdout: TextIO
    stderr: TextIO
    env: Mapping[str, str]

    @property
    def stdout_binary(self) -> BinaryIO:
        """The binary stream under stdout (for `save` without `-o`)."""
        return self.stdout.buffer  # type: ignore[attr-defined, no-any-return]


@dataclass(frozen=True)
class Verb:
    """One command: `name` inside its group, with aliases and top-level short forms."""

    name: str
    module_name: str  # under runtime_client.cli
    help: str
    aliases: tuple[str, ...] = ()
    shortcuts: tuple[str, ...] = ()

    @property
    def module(self) -> ModuleType:
        """The verb's module, imported on first use."""
        return importlib.import_module(f"runtime_client.cli.{self.module_name}")


@dataclass(frozen=True)
class CommandGroup:
    """A management command (`image`, `container`, ...) or, with `name=None`, top-level verbs."""

    name: str | None
    help: str
    verbs: tuple[Verb, ...] = field(default_factory=tuple)


def add_verb(subparsers: argparse._SubParsersAction, name: str, verb: Verb,
             aliases: tuple[str, ...] = ()) -> None:
    """Register `verb` under `name` in an argparse subparser set."""
    parser = subparsers.add_parser(name, help=verb.help, description=verb.help, aliases=aliases)
    verb.module.add_arguments(parser)
    parser.set_defaults(verb=verb)


@contextmanager
def stores_of(ctx: CliContext) -> Iterator[Stores]:
    """Open the stores under the configured root for the duration of one verb."""
    from runtime_client.config import open_stores

    stores = open_stores(ctx.config)
    try:
        yield stores
    finally:
        stores.close()


def images_in_use(ctx: CliContext) -> dict[str, list[str]]:
    """Image ID -> containers (short IDs) using it, for `rmi` and `image prune`."""
    from runtime_client.layout import Layout
    from runtime_client.runtime.store import ContainerStore

    used: dict[str, list[str]] = {}
    if not (ctx.config.root / "containers").is_dir():
        return used
    for container in ContainerStore(Layout(ctx.config.root)).list():
        used.setdefault(container.image_id, []).append(container.id[:12])
    return used


def progress_for(ctx: CliContext, quiet: bool = False) -> Progress:
    """Layer progress on stderr: bars on a terminal, plain lines otherwise."""
    from runtime_client.distribution.progress import Progress

    isatty = getattr(ctx.stderr, "isatty", None)
    return Progress(ctx.stderr, tty=bool(isatty and isatty()), quiet=quiet)


def add_content_trust_flag(parser: argparse.ArgumentParser) -> None:
    """Docker's boolean `--disable-content-trust[=true|false]` (Go flags take no separate
    value, so `=false` must be written attached; argparse cannot express that directly)."""
    parser.add_argument("--disable-content-trust", dest="disable_content_trust",
                        action="store_const", const=True, default=None,
                        help="skip image verification/signing (on unless "
                        "DOCKER_CONTENT_TRUST=1)")
    parser.add_argument("--disable-content-trust=true", dest="disable_content_trust",
                        action="store_const", const=True, help=argparse.SUPPRESS)
    parser.add_argument("--disable-content-trust=false", dest="disable_content_trust",
                        action="store_const", const=False, help=argparse.SUPPRESS)


def add_verify_flags(parser: argparse.ArgumentParser) -> None:
    """`--verify MODE` and `--policy FILE` (`runtime_client.signature_policy`)."""
    parser.add_argument("--verify", choices=("policy", "cosign", "notation", "dct", "none"),
                        help="signatures to require: the policy file's formats (the default "
                        "when one exists), one format of it, Docker Content Trust, or none")
    parser.add_argument("--policy", metavar="FILE",
                        help="signature policy file (default $BERTH_SIGNATURE_POLICY, "
                        "else <root>/policy.json)")


def add_attach_flags(parser: argparse.ArgumentParser, sig_proxy: bool = True) -> None:
    """`--detach-keys` and (for `attach`, `run`) Docker's boolean `--sig-proxy` (default
    true; `--sig-proxy=false` written attached, as a Go flag)."""
    parser.add_argument("--detach-keys", default="",
                        help="override the key sequence for detaching a container")
    if sig_proxy:
        parser.add_argument("--sig-proxy", "--sig-proxy=true", dest="sig_proxy",
                            action="store_const", const=True, default=True,
                            help="proxy received signals to the process (default true)")
        parser.add_argument("--sig-proxy=false", dest="sig_proxy", action="store_const",
                            const=False, help=argparse.SUPPRESS)
