"""Helpers shared by the container, network and system command modules.

`open_context` builds the container library's `Context` for the configured root (with the
image store as its image source); `each` runs one operation per named container the way
Docker's CLI does (echo each name, report each failure, exit 1 if any failed);
`fail` prints a container-side error with Docker's wording and returns its exit status.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from runtime_client.cli.base import CliContext
from runtime_client.container_errors import ContainerError
from runtime_client.errors import NoSuchImageError, RuntimeClientError, UsageError
from runtime_client.images.naming import is_image_id

if TYPE_CHECKING:
    from runtime_client.ops.context import Context
    from runtime_client.signature_policy import Verification

logger = logging.getLogger(__name__)

EXIT_FAILURE = 1
T = TypeVar("T")


@contextmanager
def open_context(cli: CliContext) -> Iterator[Context]:
    """The container library's context for the root this invocation uses."""
    from runtime_client.ops.context import Context
    from runtime_client.ops.image_source import StoreImageResolver

    images = StoreImageResolver(cli.config)
    try:
        yield Context.open(cli.config.root, images)
    finally:
        images.close()


def fail(cli: CliContext, exc: Exception, command: str | None = None) -> int:
    """Print an error as Docker does and return the exit code.

    With `command` (run, create, start), Docker's run-style `docker: Error response ...` form
    and its 125/126/127 statuses are used; otherwise exit status 1.
    """
    daemon = getattr(exc, "daemon_style", True)
    prefix = "Error response from daemon: " if daemon else "Error: "
    if command is not None:
        cli.stderr.write(f"berth: {prefix}{exc}\nSee 'berth {command} --help'.\n")
        return getattr(exc, "exit_code", 125)
    cli.stderr.write(f"{prefix}{exc}\n")
    return EXIT_FAILURE


def print_documents(cli: CliContext, template: str | None, documents: list[Any]) -> None:
    """Inspect output: `template` rendered for each document, or Docker's indented JSON array."""
    from runtime_client.templating import render_documents  # only commands that print one

    if template:
        cli.stdout.write(render_documents(template, documents))
    else:
        cli.stdout.write(json.dumps(documents, indent=4) + "\n")


def inspect_each(cli: CliContext, refs: list[str], template: str | None,
                 lookup: Callable[[Context, str], Any]) -> int:
    """`volume inspect` and `network inspect`: each document found, an error for each not."""
    found = []
    status = 0
    with open_context(cli) as c:
        for ref in refs:
            try:
                found.append(lookup(c, ref))
            except ContainerError as exc:
                status = fail(cli, exc)
    print_documents(cli, template, found)
    return status


def detach_keys(cli: CliContext, flag: str | None, wording: str = "detach") -> bytes:
    """The detach sequence: `--detach-keys`, else config.json's `detachKeys`, else Docker's
    default (an empty value counts as not given, as in Docker's CLI).

    Raises:
        InvalidDetachKeysError: the chosen specification is not Docker's syntax.
    """
    from runtime_client.config import configured_detach_keys
    from runtime_client.runtime.detachkeys import DEFAULT_DETACH_KEYS, parse_detach_keys
    spec = flag or configured_detach_keys(cli.config) or DEFAULT_DETACH_KEYS
    return parse_detach_keys(spec, wording)


def each(cli: CliContext, refs: list[str], action: Callable[[str], object],
         echo: bool = True, tolerated: tuple[type[Exception], ...] = (),
         parallel: bool = False) -> int:
    """Run `action` on each reference; print the reference (or the error) as Docker does.

    Args:
        cli: the invocation's streams.
        refs: container references, reported in this order.
        action: the operation on one reference.
        echo: print each reference that succeeded.
        tolerated: errors printed without making the exit status 1 (`rm -f` of a missing
            container, as docker 28 does).
        parallel: run the actions at once (the docker CLI stops containers in parallel).
    """
    def outcome(ref: str) -> Exception | None:
        try:
            action(ref)
        except (ContainerError, RuntimeClientError) as exc:
            return exc
        return None

    if parallel and len(refs) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(len(refs), 16)) as pool:
            outcomes = list(pool.map(outcome, refs))
    else:
        outcomes = [outcome(ref) for ref in refs]
    status = 0
    for ref, exc in zip(refs, outcomes, strict=True):
        if exc is None:
            if echo:
                cli.stdout.write(f"{ref}\n")
        elif isinstance(exc, tolerated):
            fail(cli, exc)
        else:
            status = fail(cli, exc)
    return status


def pull_missing(cli: CliContext, reference: str,
                 verification: Verification | None = None, announce: bool = True) -> None:
    """Docker's `run`/`create` behaviour for an image that is not local: say so, then pull it
    (progress on stderr, so a foreground run's stdout stays the container's)."""
    import asyncio

    from runtime_client.cli.base import progress_for, stores_of
    from runtime_client.config import content_trust_enabled
    from runtime_client.ops.pull import pull
    from runtime_client.options import PullOptions

    if announce:
        cli.stderr.write(f"Unable to find image '{reference}' locally\n")
        cli.stderr.flush()
    if verification is None:
        opts = PullOptions(reference, content_trust=content_trust_enabled(cli.env, None))
    else:
        opts = PullOptions(reference, content_trust=verification.content_trust,
                           signature_policy=verification.policy)
    with stores_of(cli) as stores:
        asyncio.run(pull(stores, cli.config, opts, cli.stderr, progress_for(cli), cli.env))


def with_pull(cli: CliContext, reference: str, action: Callable[[], T],
              verification: Verification | None = None) -> T:
    """Run `action`; when the image is missing (and not named by ID), pull it and run again.

    Under a signature policy the image is verified in its registry (and pulled as the digest
    verified) before `action`, even when it is already local: what was pulled earlier
    without a policy, or signed then and not now, must not start.

    Raises:
        SignatureRequiredError: the policy does not count the image as signed.
        UsageError: a policy applies and the image is named by ID (nothing to verify).
    """
    if verification is not None and verification.policy is not None:
        if is_image_id(reference) or reference.startswith("sha256:"):
            raise UsageError(f"{reference}: an image named by ID cannot be verified against "
                             "the signature policy; name it by repository and tag or digest")
        pull_missing(cli, reference, verification, announce=False)
        return action()
    try:
        return action()
    except NoSuchImageError:
        if is_image_id(reference) or reference.startswith("sha256:"):
            raise
    pull_missing(cli, reference, verification)
    return action()
