"""`berth attach`: connect the terminal to a running container until it exits."""

from __future__ import annotations

import logging
import sys
from typing import BinaryIO

from runtime_client.container_errors import InvalidStateError
from runtime_client.ops.context import Context
from runtime_client.ops.rm import remove_container
from runtime_client.ops.sigproxy import signal_proxy
from runtime_client.runtime import conmon, lifecycle, stdio
from runtime_client.runtime.container import Status

logger = logging.getLogger(__name__)


def wait_and_reap(ctx: Context, container_id: str) -> int:
    """Wait for the process to exit, record it, and return the exit code."""
    container = ctx.containers.load(container_id)
    lifecycle.wait_for_exit(ctx, container, timeout=None)
    with ctx.containers.locked(container_id):
        container = ctx.containers.load(container_id)
        container.foreground = False
        running = container.status in (Status.RUNNING, Status.PAUSED)
        if not (running and lifecycle.reap(ctx, container)):  # reap saves what it records
            ctx.containers.save(container)
    return container.state.exit_code


def leave_running(ctx: Context, container_id: str) -> None:
    """After the detach keys: nobody waits for the container any more, so its exit command
    applies `--rm` (done here if it already exited while we were attached)."""
    with ctx.containers.locked(container_id):
        container = ctx.containers.load(container_id)
        container.foreground = False
        ctx.containers.save(container)
    if container.status is Status.EXITED and container.auto_remove:
        remove_container(ctx, container_id, force=True)


def attach(ctx: Context, ref: str, stdin: BinaryIO | None = None,
           stdout: BinaryIO | None = None, stderr: BinaryIO | None = None,
           no_stdin: bool = False, detach_keys: bytes = b"",
           sig_proxy: bool = True) -> int | None:
    """Attach to a running container; returns its exit code once it exits, or None when the
    user detached (the container keeps running).

    Signals are forwarded to it with `sig_proxy`, unless it has a tty (as Docker's attach).

    Raises:
        NoSuchContainerError, InvalidStateError: not running.
    """
    container = ctx.containers.find(ref)
    if container.status is Status.PAUSED:
        raise InvalidStateError("You cannot attach to a paused container, unpause it first")
    if container.status is not Status.RUNNING:
        raise InvalidStateError("You cannot attach to a stopped container, start it first")
    sock = conmon.connect_attach(ctx.layout.attach_socket(container.id))
    with signal_proxy(ctx, container, sig_proxy and not container.tty):
        try:
            use_stdin = container.open_stdin and not no_stdin
            detached = stdio.pump(sock, (stdin or sys.stdin.buffer) if use_stdin else None,
                                  stdout or sys.stdout.buffer, stderr or sys.stderr.buffer,
                                  container.tty, ctx.layout.bundle(container.id), detach_keys)
        finally:
            sock.close()
        return None if detached else wait_and_reap(ctx, container.id)
