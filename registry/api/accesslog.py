"""The access log: one JSON line per request, written as `logging` writes it, but cheaply.

A line reads `<asctime> INFO registry.access {"request_id": ..., ...}`, the format that
`registry.cli.common.setup_logging` gives every logger. Sent through `logging`, each line cost
as much as the rest of a small request (a record, a formatter, a lock, a write and a flush).
`berth-hub serve` installs a `StreamSink` instead: it formats the same line itself (the time
text once per second) and writes all the lines of one event-loop turn at once, when that turn
ends. Elsewhere (tests, other embeddings) lines go to the `registry.access` logger as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, TextIO

__all__ = ["StreamSink", "install_stream_sink", "write_access_line"]

access_logger = logging.getLogger("registry.access")


class StreamSink:
    """Buffers access lines and writes them to `stream` at the end of the loop turn."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: list[str] = []
        self._second = -1
        self._second_text = ""

    def write(self, fields: dict[str, Any]) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            # logging.Formatter's default: local time, then ",<milliseconds>".
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
            self._second = second
        millis = int((now - second) * 1000)
        if not self._lines:
            asyncio.get_running_loop().call_soon(self.flush)
        self._lines.append(
            f"{self._second_text},{millis:03d} INFO registry.access {json.dumps(fields)}\n"
        )

    def flush(self) -> None:
        lines, self._lines = self._lines, []
        try:
            self._stream.write("".join(lines))
            self._stream.flush()
        except (OSError, ValueError):  # as logging.Handler: a broken log never fails requests
            pass


_sink: StreamSink | None = None


def install_stream_sink(stream: TextIO) -> None:
    """Write access lines to `stream` directly (when the `registry.access` logger logs INFO)."""
    global _sink
    _sink = StreamSink(stream) if access_logger.isEnabledFor(logging.INFO) else None


def write_access_line(fields: dict[str, Any]) -> None:
    """Log one request."""
    if _sink is not None:
        _sink.write(fields)
    elif access_logger.isEnabledFor(logging.INFO):
        access_logger.info(json.dumps(fields))
