"""`berth stats [--no-stream] [CONTAINER...]`: CPU %, memory, network and block I/O, PIDs.

CPU and memory come from the container's cgroup through `runc events --stats`; network bytes
from /proc/<pid>/net/dev inside the container's namespace. CPU % is the cgroup's CPU time over
wall time between two samples (Docker's formula for the same thing).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime_client.container_errors import InvalidStateError
from runtime_client.ops.context import Context
from runtime_client.runtime.container import Container, Status

SAMPLE_INTERVAL = 0.5  # seconds between the two samples of --no-stream


@dataclass(frozen=True)
class Sample:
    """One reading of a container's counters."""

    at: float  # monotonic seconds
    cpu_ns: int
    memory_usage: int
    memory_limit: int
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int


@dataclass(frozen=True)
class StatsRow:
    """What `stats` shows for one container."""

    container_id: str
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    net_rx: int
    net_tx: int
    block_read: int
    block_write: int
    pids: int

    @property
    def memory_percent(self) -> float:
        return 100.0 * self.memory_usage / self.memory_limit if self.memory_limit else 0.0


def _net_bytes(pid: int) -> tuple[int, int]:
    rx = tx = 0
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]:
            name, _, rest = line.partition(":")
            if name.strip() == "lo":
                continue
            fields = rest.split()
            rx += int(fields[0])
            tx += int(fields[8])
    return rx, tx


def _host_memory() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def sample(ctx: Context, container: Container) -> Sample:
    """Read the counters of a running container."""
    data: dict[str, Any] = ctx.runtime(container.runtime).stats(container.id)
    memory = data.get("memory") or {}
    usage = (memory.get("usage") or {}).get("usage", 0)
    inactive = (memory.get("raw") or memory.get("stats") or {}).get("total_inactive_file", 0)
    limit = (memory.get("usage") or {}).get("limit", 0)
    host = _host_memory()
    if not limit or limit >= host:
        limit = host
    read = write = 0
    for entry in (data.get("blkio") or {}).get("ioServiceBytesRecursive") or []:
        if entry.get("op") == "Read":
            read += entry.get("value", 0)
        elif entry.get("op") == "Write":
            write += entry.get("value", 0)
    rx, tx = _net_bytes(container.state.pid)
    return Sample(time.monotonic(), ((data.get("cpu") or {}).get("usage") or {}).get("total", 0),
                  max(0, usage - inactive), limit, rx, tx, read, write,
                  (data.get("pids") or {}).get("current", 0))


def row(container: Container, first: Sample, second: Sample) -> StatsRow:
    """A `stats` row from two samples of one container."""
    elapsed_ns = max(1.0, (second.at - first.at) * 1e9)
    cpu = 100.0 * max(0, second.cpu_ns - first.cpu_ns) / elapsed_ns
    return StatsRow(container.id, container.name, cpu, second.memory_usage,
                    second.memory_limit, second.net_rx, second.net_tx, second.block_read,
                    second.block_write, second.pids)


def running_containers(ctx: Context, refs: tuple[str, ...]) -> list[Container]:
    """The named containers (all running ones when none is named).

    Raises:
        NoSuchContainerError, InvalidStateError: a named container is not running.
    """
    if not refs:
        return [c for c in ctx.containers.list()
                if c.status in (Status.RUNNING, Status.PAUSED)]
    found = []
    for ref in refs:
        container = ctx.containers.find(ref)
        if container.status not in (Status.RUNNING, Status.PAUSED):
            raise InvalidStateError(f"Container {ref} is not running")
        found.append(container)
    return found


def stats(ctx: Context, refs: tuple[str, ...] = (),
          interval: float = SAMPLE_INTERVAL) -> list[StatsRow]:
    """One `stats --no-stream` table: two samples `interval` seconds apart."""
    containers = running_containers(ctx, refs)
    firsts = [sample(ctx, c) for c in containers]
    time.sleep(interval)
    return [row(c, f, sample(ctx, c)) for c, f in zip(containers, firsts, strict=True)]
