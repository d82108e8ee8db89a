"""`berth start [-a] [-i]`: start created or stopped containers."""

from __future__ import annotations

import logging
import socket
import sys
from dataclasses import dataclass
from typing import BinaryIO

from runtime_client.ops.attach import leave_running, wait_and_reap
from runtime_client.ops.context import Context
from runtime_client.runtime import conmon, lifecycle, stdio

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StartOptions:
    """Options of `start`."""

    containers: tuple[str, ...]
    attach: bool = False
    interactive: bool = False


def start(ctx: Context, ref: str) -> None:
    """Start one container in the background.

    Raises:
        NoSuchContainerError, InvalidStateError, OciRuntimeError, NetworkError.
    """
    found = ctx.containers.find(ref)
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        container.foreground = False
        lifecycle.start(ctx, container)


def start_attached(ctx: Context, ref: str, interactive: bool, stdin: BinaryIO | None = None,
                   stdout: BinaryIO | None = None, stderr: BinaryIO | None = None,
                   detach_keys: bytes = b"") -> int | None:
    """Start one container with its output (and -i input) attached; return its exit code, or
    None when the user detached (it keeps running)."""
    found = ctx.containers.find(ref)
    sock: list[socket.socket] = []
    with ctx.containers.locked(found.id):
        container = ctx.containers.load(found.id)
        container.foreground = True
        lifecycle.start(ctx, container, before_start=lambda: sock.append(
            conmon.connect_attach(ctx.layout.attach_socket(container.id))))
    try:
        detached = stdio.pump(sock[0], (stdin or sys.stdin.buffer) if interactive else None,
                              stdout or sys.stdout.buffer, stderr or sys.stderr.buffer,
                              container.tty, ctx.layout.bundle(container.id), detach_keys)
    finally:
        sock[0].close()
    if detached:
        leave_running(ctx, container.id)
        return None
    return wait_and_reap(ctx, container.id)
