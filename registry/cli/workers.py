"""Extra `serve` worker processes sharing one listening address through SO_REUSEPORT.

The first process starts the others once its own start-up (migrations, first-start bootstrap)
is done, so they find everything in place; each is a full hub (the hub keeps no state in a
process), and the kernel spreads connections over them. Workers die with the first process
(`PR_SET_PDEATHSIG`) and are stopped when it stops.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from aiohttp import web

logger = logging.getLogger(__name__)

__all__ = ["add_workers", "die_with_parent"]

_PR_SET_PDEATHSIG = 1
STOP_TIMEOUT = 10.0  # seconds a worker may take to stop


def die_with_parent() -> None:
    """Have the kernel send this process SIGTERM when its parent ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _argv_without_workers(argv: Sequence[str]) -> list[str]:
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            kept.append(arg)
    return kept


def add_workers(app: web.Application, count: int, argv: Sequence[str] | None = None) -> None:
    """Start `count` more copies of this `serve` once `app` has started; stop them with it."""
    processes: list[subprocess.Popen[bytes]] = []
    command = [sys.executable, "-m", "registry", *_argv_without_workers(argv or sys.argv[1:])]

    async def start(_app: web.Application) -> None:
        env = {**os.environ, "BERTH_WORKERS": "1"}
        for _ in range(count):
            processes.append(subprocess.Popen(command, env=env, preexec_fn=die_with_parent))
        logger.info("started %d more workers: %s", count, [p.pid for p in processes])

    async def stop(_app: web.Application) -> None:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
