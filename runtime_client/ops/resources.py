"""The resource and stop flags of `create`/`run`, checked and turned into record values.

Covers `--tmpfs`, `--shm-size`, `--cpus`, `--cpu-quota`, `--cpu-period`, `--device`,
`--stop-signal` and `--stop-timeout`, plus Docker's size syntax they share with `--memory`.
As with the security flags, everything is checked at create time so a bad value exits 125
and leaves no container: Docker's own messages where it has one, and a clear one where Docker
would only fail at start (a tmpfs size the kernel refuses, a host without a CFS quota).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runtime_client.container_errors import InvalidOptionError
from runtime_client.runtime import host
from runtime_client.runtime.cpu import CpuLimits, check_cpu_limits, parse_cpus
from runtime_client.runtime.devices import parse_device, resolve_devices
from runtime_client.runtime.signals import parse_signal
from runtime_client.runtime.tmpfs import DEFAULT_SHM_SIZE, parse_tmpfs_list

if TYPE_CHECKING:
    from runtime_client.ops.create import CreateOptions

logger = logging.getLogger(__name__)

__all__ = ["ResourceSettings", "parse_memory", "resolve_resources"]

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


@dataclass(frozen=True)
class ResourceSettings:
    """What the container record keeps of the resource and stop flags."""

    tmpfs: dict[str, str]
    shm_size: int
    cpu: CpuLimits
    devices: list[dict[str, str]]
    stop_signal: str
    stop_timeout: int | None


def parse_memory(value: str) -> int:
    """Docker's sizes: `32m`, `1g`, `1048576` (binary units; '' is 0).

    Raises:
        InvalidOptionError: not a size.
    """
    if not value:
        return 0
    match = _SIZE_RE.match(value.strip())
    if match is None:
        raise InvalidOptionError(f"invalid size: '{value}'")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _flag_error(flag: str, value: str, exc: InvalidOptionError) -> InvalidOptionError:
    return InvalidOptionError(f'invalid argument "{value}" for "{flag}" flag: {exc}')


def resolve_resources(opts: CreateOptions, image_config: dict[str, Any]) -> ResourceSettings:
    """Check the resource and stop flags of `opts` against Docker's rules and this host.

    Args:
        opts: the options as typed.
        image_config: the image's run config (its `StopSignal` applies unless overridden).

    Raises:
        InvalidOptionError: a value Docker refuses, or one this host cannot honour.
    """
    tmpfs = parse_tmpfs_list(opts.tmpfs)
    try:
        shm_size = parse_memory(opts.shm_size) or DEFAULT_SHM_SIZE
    except InvalidOptionError as exc:
        raise _flag_error("--shm-size", opts.shm_size, exc) from None
    cpu = CpuLimits(nano_cpus=parse_cpus(opts.cpus), cpu_quota=opts.cpu_quota,
                    cpu_period=opts.cpu_period)
    check_cpu_limits(cpu, os.cpu_count() or 1)
    if cpu.cfs() is not None and not host.cfs_available():
        raise InvalidOptionError("NanoCPUs can not be set, as your kernel does not support "
                                 "CPU CFS scheduler or the cgroup is not mounted")
    devices = [parse_device(value) for value in opts.devices]
    resolve_devices(devices)  # the host paths must be device nodes now
    stop_signal = opts.stop_signal or image_config.get("StopSignal") or ""
    if stop_signal:
        parse_signal(stop_signal)
    return ResourceSettings(tmpfs=tmpfs, shm_size=shm_size, cpu=cpu, devices=devices,
                            stop_signal=stop_signal, stop_timeout=opts.stop_timeout)
