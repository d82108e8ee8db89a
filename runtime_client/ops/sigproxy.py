"""`--sig-proxy`: signals sent to an attached `berth run`/`attach` go to the container.

As Docker's CLI (`ForwardAllSignals`): every catchable signal except SIGCHLD, SIGPIPE and SIGURG
(which Go's runtime uses) is passed to the container's main process. With `--sig-proxy=false`
the signals that would end the client (SIGINT, SIGTERM, SIGQUIT) are absorbed instead, and the
third one leaves, as Docker's "got 3 SIGTERM/SIGINTs, forcefully exiting" does (status 130).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

from runtime_client.container_errors import ContainerError
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container

logger = logging.getLogger(__name__)

_NOT_FORWARDED = {signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD, signal.SIGPIPE, signal.SIGURG}
_TERMINATING = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
_FORCE_EXIT_AFTER = 3
_FORCE_EXIT_STATUS = 130


def _forwarded() -> list[signal.Signals]:
    return [s for s in signal.valid_signals()
            if isinstance(s, signal.Signals) and s not in _NOT_FORWARDED]


@contextlib.contextmanager
def signal_proxy(ctx: Context, container: Container, enabled: bool) -> Iterator[None]:
    """Forward (or, disabled, absorb) the client's signals for the duration of the block."""
    runtime = ctx.runtime(container.runtime)
    received = 0

    def forward(signum: int, _frame: object) -> None:
        try:
            runtime.kill(container.id, str(signum))
        except ContainerError as exc:  # the container may just have exited
            logger.debug("could not forward signal %d: %s", signum, exc)

    def absorb(_signum: int, _frame: object) -> None:
        nonlocal received
        received += 1
        if received >= _FORCE_EXIT_AFTER:
            sys.stderr.write("got 3 SIGTERM/SIGINTs, forcefully exiting\n")
            raise SystemExit(_FORCE_EXIT_STATUS)

    handler, signals = (forward, _forwarded()) if enabled else (absorb, list(_TERMINATING))
    saved = {}
    for sig in signals:
        with contextlib.suppress(OSError, ValueError):
            saved[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, previous in saved.items():
            signal.signal(sig, previous)
