"""Free loopback ports and readiness polling for processes the tests start.

A port `free_port` returns is free only at that moment: the server a test starts binds it a
little later, and any other process may take it in between. `listening_in_tree` tells whether
the server itself (and not a stranger) is the one listening.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["bound_socket", "free_port", "http_status", "listening_in_tree", "wait_until"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bound_socket() -> socket.socket:
    """A TCP socket bound to a kernel-picked port on 127.0.0.1, for an in-process server.

    The port stays held from here on, so no other process can take it before the server
    listens (aiohttp: `web.SockSite(runner, sock)`).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def listening_in_tree(pid: int, port: int) -> bool:
    """Whether process `pid` or one of its descendants listens on TCP `port` (from /proc)."""
    return any(row[3] == "0A" for row in tcp_sockets(_process_tree(pid), port))  # 0A: LISTEN


def tcp_sockets(pids: Iterable[int], port: int) -> list[list[str]]:
    """The /proc/net/tcp rows of the sockets processes `pids` hold on local TCP `port`."""
    inodes: set[str] = set()
    for member in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{member}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return [row for row in rows
            if int(row[1].rsplit(":", 1)[1], 16) == port and row[9] in inodes]


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            # Field 4 (after the parenthesised command name) is the parent pid.
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        member = pending.pop()
        tree.append(member)
        pending.extend(children.get(member, []))
    return tree


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status `url` answers a GET with, or None when nothing answers.

    Certificates are not checked: test hubs use self-signed ones.
    """
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, urllib.error.URLError):
        return None


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; return whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
