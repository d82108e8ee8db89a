"""`berth logs [-f] [--tail N] [-t] [--since T] [--until T]`: read conmon's k8s-file log.

Each log line is `<RFC3339Nano timestamp> <stdout|stderr> <F|P> <text>`; `P` marks a partial
line (conmon splits long lines and lines without a newline yet), `F` the last piece.
As with dockerd's json-file logs, `--tail` picks the last lines first and `--since`/`--until`
(both inclusive) then filter them; `--follow` ends once lines pass `--until`.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from runtime_client.container_errors import InvalidOptionError
from runtime_client.ops.context import Context
from runtime_client.runtime import lifecycle
from runtime_client.runtime.container import Status

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")


@dataclass(frozen=True)
class LogsOptions:
    """Options of `logs`."""

    container: str
    follow: bool = False
    tail: str = "all"
    timestamps: bool = False
    since: datetime | None = None
    until: datetime | None = None
    # Docker prints the log driver's extra attributes (`--log-opt labels=/env=`) and a space
    # before each line; berth keeps none, so `--details` leaves Docker's bare space.
    details: bool = False


@dataclass(frozen=True)
class LogLine:
    """One complete line of output."""

    timestamp: str
    stream: str
    data: bytes


def _parse(raw: bytes, pending: dict[str, bytes]) -> LogLine | None:
    parts = raw.split(b" ", 3)
    if len(parts) < 3:
        return None
    ts, stream, tag = parts[0].decode(), parts[1].decode(), parts[2]
    text = parts[3] if len(parts) == 4 else b""
    if tag == b"P":
        pending[stream] = pending.get(stream, b"") + text
        return None
    data = pending.pop(stream, b"") + text + b"\n"
    return LogLine(ts, stream, data)


def read_lines(path: Path) -> Iterator[LogLine]:
    """Every complete line of a log file."""
    pending: dict[str, bytes] = {}
    try:
        with open(path, "rb") as f:
            for raw in f:
                line = _parse(raw.rstrip(b"\n"), pending)
                if line is not None:
                    yield line
    except FileNotFoundError:
        return


def _tail_count(tail: str) -> int | None:
    if tail in ("all", "", "-1"):
        return None
    if not tail.isdigit():
        raise InvalidOptionError(f'invalid value for "tail": "{tail}"')
    return int(tail)


def docker_timestamp(stamp: str) -> str:
    """conmon's `2026-12-03T23:53:57.836959660+01:00` as Docker prints it with `logs -t`:
    UTC with `Z` and always nine digits of nanoseconds (dockerd's `RFC3339NanoFixed`)."""
    match = _STAMP.match(stamp)
    if match is None:
        return stamp
    seconds, fraction, offset = match.groups()
    moment = datetime.fromisoformat(seconds + (offset or "+00:00")).astimezone(UTC)
    fraction = (fraction or "").ljust(9, "0")[:9]
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}Z"


def _moment(stamp: str) -> datetime | None:
    match = _STAMP.match(stamp)
    if match is None:
        return None
    seconds, fraction, offset = match.groups()
    moment = datetime.fromisoformat(seconds + (offset or "+00:00"))
    return moment + timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))


class _Window:
    """Which lines `--since`/`--until` let through, and when following may stop."""

    def __init__(self, since: datetime | None, until: datetime | None) -> None:
        self.since, self.until = since, until
        self.passed_until = False

    def admits(self, line: LogLine) -> bool:
        if self.since is None and self.until is None:
            return True
        moment = _moment(line.timestamp)
        if moment is None:
            return True
        if self.until is not None and moment > self.until:
            self.passed_until = True
            return False
        return self.since is None or moment >= self.since


def _emit(line: LogLine, stdout: BinaryIO, stderr: BinaryIO, opts: LogsOptions) -> None:
    out = stderr if line.stream == "stderr" else stdout
    prefix = (docker_timestamp(line.timestamp).encode() + b" ") if opts.timestamps else b""
    if opts.details:
        prefix += b" "
    out.write(prefix + line.data)
    out.flush()


def logs(ctx: Context, opts: LogsOptions, stdout: BinaryIO, stderr: BinaryIO) -> None:
    """Write the container's output; with `follow`, keep going until it stops.

    Raises:
        NoSuchContainerError, InvalidOptionError: bad --tail.
    """
    count = _tail_count(opts.tail)
    window = _Window(opts.since, opts.until)
    container = ctx.containers.find(opts.container)
    path = ctx.layout.container_log(container.id)
    if count == 0:
        lines: deque[LogLine] = deque()
    else:
        lines = deque(read_lines(path), maxlen=count)
    for line in lines:
        if window.admits(line):
            _emit(line, stdout, stderr, opts)
    if not opts.follow or window.passed_until:
        return
    offset = path.stat().st_size if path.exists() else 0
    pending: dict[str, bytes] = {}
    buffer = b""
    while True:
        container = lifecycle.refresh(ctx, ctx.containers.load(container.id))
        still_running = container.status in (Status.RUNNING, Status.PAUSED, Status.RESTARTING)
        if path.exists() and path.stat().st_size > offset:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            offset += len(chunk)
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                parsed = _parse(raw, pending)
                if parsed is not None and window.admits(parsed):
                    _emit(parsed, stdout, stderr, opts)
            if window.passed_until:
                return
            continue
        if not still_running or (opts.until is not None and datetime.now(UTC) > opts.until):
            return
        time.sleep(0.1)
