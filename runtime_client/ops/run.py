"""`berth run`: create, start, and (without -d) attach and wait for the exit code."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from dataclasses import dataclass
from typing import BinaryIO

from runtime_client.container_errors import InvalidOptionError
from runtime_client.ops.attach import wait_and_reap
from runtime_client.ops.context import Context
from runtime_client.ops.create import CreateOptions, create
from runtime_client.ops.rm import remove_container
from runtime_client.runtime import conmon, lifecycle, stdio

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What `run` reports: the container, and the exit code of a foreground run."""

    container_id: str
    exit_code: int | None


def run(ctx: Context, opts: CreateOptions, stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None, stderr: BinaryIO | None = None) -> RunResult:
    """Run a container; with `opts.detach` return once it started.

    Raises:
        InvalidOptionError: conflicting options.
        NoSuchImageError, OciRuntimeError (126/127), NetworkError, ...: as `create`/`start`.
    """
    if opts.auto_remove and opts.restart not in ("", "no"):
        raise InvalidOptionError("Conflicting options: --restart and --rm")
    container = create(ctx, opts)
    sock: list[socket.socket] = []
    try:
        with ctx.containers.locked(container.id):
            container = ctx.containers.load(container.id)
            hook = None if opts.detach else (lambda: sock.append(
                conmon.connect_attach(ctx.layout.attach_socket(container.id))))
            lifecycle.start(ctx, container, before_start=hook)
    except BaseException:
        for s in sock:
            s.close()
        if opts.auto_remove:
            with contextlib.suppress(Exception):
                remove_container(ctx, container.id, force=True, volumes=True)
        raise
    if opts.detach:
        return RunResult(container.id, None)
    try:
        stdio.pump(sock[0], (stdin or sys.stdin.buffer) if opts.interactive else None,
                   stdout or sys.stdout.buffer, stderr or sys.stderr.buffer, opts.tty,
                   ctx.layout.bundle(container.id))
    finally:
        sock[0].close()
    code = wait_and_reap(ctx, container.id)
    if opts.auto_remove:
        remove_container(ctx, container.id, force=True, volumes=True)
    return RunResult(container.id, code)
