"""`berth run`: create, start, and (without -d) attach and wait for the exit code."""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
from dataclasses import dataclass
from typing import BinaryIO

from runtime_client.container_errors import InvalidOptionError
from runtime_client.ops.attach import leave_running, wait_and_reap
from runtime_client.ops.context import Context
from runtime_client.ops.create import CreateOptions, create
from runtime_client.ops.rm import remove_container
from runtime_client.ops.sigproxy import signal_proxy
from runtime_client.runtime import conmon, lifecycle, stdio

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What `run` reports: the container, and the exit code of a foreground run (None with
    -d or when the user detached)."""

    container_id: str
    exit_code: int | None
    detached: bool = False


def run(ctx: Context, opts: CreateOptions, stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None, stderr: BinaryIO | None = None,
        detach_keys: bytes = b"", sig_proxy: bool = True) -> RunResult:
    """Run a container; with `opts.detach` return once it started, else once it exited or the
    user typed `detach_keys`. With `sig_proxy` the client's signals go to the container
    (Docker's run proxies them with or without a tty).

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
    with signal_proxy(ctx, container, sig_proxy):
        try:
            detached = stdio.pump(
                sock[0], (stdin or sys.stdin.buffer) if opts.interactive else None,
                stdout or sys.stdout.buffer, stderr or sys.stderr.buffer, opts.tty,
                ctx.layout.bundle(container.id), detach_keys)
        finally:
            sock[0].close()
        if detached:
            leave_running(ctx, container.id)
            return RunResult(container.id, None, detached=True)
        code = wait_and_reap(ctx, container.id)
    if opts.auto_remove:
        remove_container(ctx, container.id, force=True, volumes=True)
    return RunResult(container.id, code)
