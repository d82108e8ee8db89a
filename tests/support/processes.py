"""Starting and stopping the server processes that tests and benches start."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from tests.support.ports import free_port, http_status, wait_until

PORT_ATTEMPTS = 5


def start_on_free_port(launch: Callable[[int], subprocess.Popen], ready_url: Callable[[int], str],
                       port: int, timeout: float) -> tuple[subprocess.Popen, int] | None:
    """Start a server with `launch(port)` and wait until `ready_url(port)` answers.

    A port picked free can be taken before the server binds it: when the server exits while
    starting, it is started again on a fresh port (a few times).

    Returns:
        The running process and its port; None when it did not come up (it is stopped).
    """
    for _ in range(PORT_ATTEMPTS):
        process = launch(port)
        url = ready_url(port)
        up = wait_until(lambda p=process, u=url: p.poll() is not None
                        or http_status(u, 5.0) is not None, timeout)
        if up and process.poll() is None:
            return process, port
        exited = process.poll() is not None
        stop_process(process)
        if not exited:
            return None
        port = free_port()
    return None


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds; reaps it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
