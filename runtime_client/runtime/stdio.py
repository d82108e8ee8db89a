"""Copying a terminal or pipes to and from a container's conmon attach socket.

With a tty the local terminal is put in raw mode for the duration and its size is passed to
conmon (and again on SIGWINCH). Without one, frames are split back into stdout and stderr.
End of the local stdin half-closes the socket, which closes the container's stdin. With a tty,
typing the detach keys ends the copy and leaves the container running (Docker copies stdin
through its escape filter only for tty containers too).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import selectors
import signal
import socket
import struct
import termios
import tty as ttymod
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from runtime_client.runtime import conmon
from runtime_client.runtime.detachkeys import DetachKeyFilter

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """Raw mode on a terminal fd, restored afterwards (no-op when not a tty)."""
    if not os.isatty(fd):
        yield
        return
    saved = termios.tcgetattr(fd)
    try:
        ttymod.setraw(fd)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def terminal_size(fd: int) -> tuple[int, int] | None:
    """(rows, cols) of a terminal, or None."""
    try:
        packed = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None
    rows, cols = struct.unpack("HHHH", packed)[:2]
    return rows, cols


def pump(sock: socket.socket, stdin: BinaryIO | None, stdout: BinaryIO, stderr: BinaryIO,
         tty: bool, bundle: Path, detach_keys: bytes = b"") -> bool:
    """Copy until the container side closes the socket or the user detaches.

    Args:
        sock: a connected attach socket.
        stdin: forwarded to the container when given (-i).
        stdout, stderr: where the container's output goes (with a tty all goes to stdout).
        tty: whether the container has a pty (local terminal goes raw, resizes forwarded).
        bundle: the container's bundle directory (conmon's resize FIFO lives there).
        detach_keys: the sequence that detaches (with a tty and stdin only).

    Returns:
        True when the user typed the detach keys (the container keeps running).
    """
    keys = DetachKeyFilter(detach_keys) if tty and stdin is not None and detach_keys else None
    in_fd = stdin.fileno() if stdin is not None else -1
    old_winch = None
    if tty and in_fd >= 0 and os.isatty(in_fd):
        def on_winch(_sig: int, _frame: object) -> None:
            size = terminal_size(in_fd)
            if size:
                conmon.resize_terminal(bundle, *size)

        on_winch(0, None)
        old_winch = signal.signal(signal.SIGWINCH, on_winch)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    if in_fd >= 0:
        sel.register(in_fd, selectors.EVENT_READ)
    ctx = raw_terminal(in_fd) if tty and in_fd >= 0 else contextlib.nullcontext()
    try:
        with ctx:
            while True:
                for key, _ in sel.select():
                    if key.fileobj is sock:
                        frame = conmon.recv_frame(sock)
                        if frame is None:
                            return False
                        kind, data = frame
                        out = stderr if kind == conmon.STDERR_BYTE and not tty else stdout
                        out.write(data)
                        out.flush()
                    else:
                        data = os.read(in_fd, 8192)
                        if not data:
                            sel.unregister(in_fd)
                            with contextlib.suppress(OSError):
                                sock.shutdown(socket.SHUT_WR)
                        else:
                            if keys is not None:
                                data = keys.feed(data)
                            if data:
                                sock.sendall(data)
                            if keys is not None and keys.detached:
                                return True
    finally:
        sel.close()
        if old_winch is not None:
            signal.signal(signal.SIGWINCH, old_winch)
